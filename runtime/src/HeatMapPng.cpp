// writePng: an RgbImage encoded by libpng into memory, then written atomically (temporary file,
// fsync, rename), as checkpoints are.
#include "attnrt/Error.h"
#include "attnrt/HeatMap.h"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace attnrt {

namespace {

/// What libpng's callbacks share. Only plain data lives in the frame that
/// calls setjmp, so a longjmp out of libpng skips no destructor.
struct PngState {
  std::string *out;
  char message[256];
};

void onError(png_structp png, png_const_charp message) {
  auto *state = static_cast<PngState *>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  png_longjmp(png, 1);
}

void onWarning(png_structp, png_const_charp) {}

void onWrite(png_structp png, png_bytep data, size_t size) {
  auto *state = static_cast<PngState *>(png_get_io_ptr(png));
  bool ok = true;
  try {
    state->out->append(reinterpret_cast<const char *>(data), size);
  } catch (...) {
    ok = false;
  }
  if (!ok)
    png_error(png, "out of memory");
}

void onFlush(png_structp) {}

/// Encodes 8-bit RGB rows into state->out; false (with state->message) on failure.
bool encode(const RgbImage &image, PngState *state) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, state, onError, onWarning);
  if (!png) {
    std::snprintf(state->message, sizeof state->message, "libpng could not start");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    std::snprintf(state->message, sizeof state->message, "libpng could not start");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, state, onWrite, onFlush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t stride = static_cast<size_t>(image.width) * 3;
  for (int y = 0; y < image.height; ++y)
    png_write_row(png, image.rgb.data() + static_cast<size_t>(y) * stride);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

bool writeAll(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void writeFileAtomically(const std::string &path, const std::string &bytes) {
  auto fail = [&](const std::string &what) {
    throw Error("cannot write PNG file '" + path + "': " + what);
  };
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    fail("cannot create '" + tmp + "': " + std::strerror(errno));
  // Every way out below but the rename removes the temporary file.
  auto failAndRemove = [&](const char *step, bool open) {
    const int savedErrno = errno; // before anything else can change it
    if (open)
      ::close(fd);
    ::unlink(tmp.c_str());
    fail(std::string(step) + " '" + tmp + "': " + std::strerror(savedErrno));
  };
  if (!writeAll(fd, bytes.data(), bytes.size()))
    failAndRemove("writing", true);
  if (::fsync(fd) != 0)
    failAndRemove("fsync of", true);
  if (::close(fd) != 0)
    failAndRemove("closing", false);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    failAndRemove("renaming", false);
  // Make the rename durable; failing here no longer risks the data.
  const std::string dir =
      path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  const int dirFd = ::open(dir.empty() ? "/" : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

} // namespace

void writePng(const std::string &path, const RgbImage &image) {
  if (image.width < 1 || image.height < 1 ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3)
    throw std::invalid_argument(
        "writePng('" + path + "'): image is " + std::to_string(image.width) + " x " +
        std::to_string(image.height) + " with " + std::to_string(image.rgb.size()) +
        " bytes, expected width, height >= 1 and width x height x 3 bytes");
  std::string bytes;
  PngState state{&bytes, {}};
  if (!encode(image, &state))
    throw Error("cannot write PNG file '" + path + "': libpng: " + state.message);
  writeFileAtomically(path, bytes);
}

} // namespace attnrt
