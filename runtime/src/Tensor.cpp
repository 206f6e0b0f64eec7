#include "attnrt/Tensor.h"

#include "attnrt/Error.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace attnrt {

namespace {

constexpr std::size_t kAlignment = 64;

halide_type_t halideType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return halide_type_t(halide_type_float, 32);
  case DType::I32:
    return halide_type_t(halide_type_int, 32);
  }
  throw std::invalid_argument("unknown DType");
}

std::string indexString(std::initializer_list<int64_t> index) {
  return shapeString(std::vector<int64_t>(index));
}

} // namespace

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "F32";
  case DType::I32:
    return "I32";
  }
  return "?";
}

std::size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return sizeof(float);
  case DType::I32:
    return sizeof(int32_t);
  }
  return 0;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << '[';
  for (std::size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

int64_t shapeNumel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t extent : shape) {
    if (extent < 0)
      throw std::invalid_argument("shape " + shapeString(shape) + " has a negative extent");
    if (extent != 0 && n > std::numeric_limits<int64_t>::max() / extent)
      throw std::invalid_argument("shape " + shapeString(shape) +
                                  " has more elements than int64_t can count");
    n *= extent;
  }
  return n;
}

void Tensor::AlignedFree::operator()(uint8_t *p) const { std::free(p); }

Tensor::Tensor() : Tensor(DType::F32, {0}) {}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape)
    : dtype_(dtype), shape_(std::move(shape)), numel_(shapeNumel(shape_)) {
  allocate();
  bindBuffer();
}

Tensor Tensor::fromValues(DType dtype, std::vector<int64_t> shape, const void *values,
                          std::size_t count) {
  Tensor t(dtype, std::move(shape));
  if (static_cast<uint64_t>(t.numel()) != count)
    throw std::invalid_argument("fromVector: shape " + t.shapeString() + " has " +
                                std::to_string(t.numel()) + " elements, got " +
                                std::to_string(count) + " values");
  if (count)
    std::memcpy(t.storage_.get(), values, t.byteSize());
  return t;
}

void Tensor::allocate() {
  if (static_cast<uint64_t>(numel_) > std::numeric_limits<std::size_t>::max() / 8)
    throw std::invalid_argument("tensor of shape " + shapeString() + " is too large");
  // Never a null host pointer, even when empty: Halide reads host == nullptr as a bounds query.
  std::size_t bytes = byteSize();
  std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded == 0)
    rounded = kAlignment;
  auto *p = static_cast<uint8_t *>(std::aligned_alloc(kAlignment, rounded));
  if (!p)
    throw std::bad_alloc();
  std::memset(p, 0, rounded);
  storage_.reset(p);
}

void Tensor::bindBuffer() {
  halideDims_.assign(shape_.size(), halide_dimension_t{});
  halideRepresentable_ = true;
  int64_t stride = 1;
  for (std::size_t i = 0; i < shape_.size(); ++i) {
    int64_t extent = shape_[shape_.size() - 1 - i];
    if (extent > std::numeric_limits<int32_t>::max() ||
        stride > std::numeric_limits<int32_t>::max())
      halideRepresentable_ = false;
    halideDims_[i].min = 0;
    halideDims_[i].extent = static_cast<int32_t>(extent);
    halideDims_[i].stride = static_cast<int32_t>(stride);
    halideDims_[i].flags = 0;
    stride *= extent == 0 ? 1 : extent;
  }
  buffer_.host = storage_.get();
  buffer_.type = halideType(dtype_);
  buffer_.dimensions = static_cast<int32_t>(shape_.size());
  buffer_.dim = halideDims_.data();
}

void Tensor::releaseDevice() noexcept {
  if (buffer_.device && buffer_.device_interface && buffer_.device_interface->device_free)
    buffer_.device_interface->device_free(nullptr, &buffer_);
  buffer_.device = 0;
  buffer_.device_interface = nullptr;
  buffer_.flags = 0;
}

Tensor::Tensor(const Tensor &other)
    : dtype_(other.dtype_), shape_(other.shape_), numel_(other.numel_) {
  allocate();
  std::memcpy(storage_.get(), other.hostForRead(), byteSize());
  bindBuffer();
}

Tensor &Tensor::operator=(const Tensor &other) {
  if (this != &other)
    *this = Tensor(other);
  return *this;
}

Tensor::Tensor(Tensor &&other) noexcept { *this = std::move(other); }

Tensor &Tensor::operator=(Tensor &&other) noexcept {
  if (this == &other)
    return *this;
  releaseDevice();
  dtype_ = other.dtype_;
  shape_ = std::move(other.shape_);
  numel_ = other.numel_;
  storage_ = std::move(other.storage_);
  halideDims_ = std::move(other.halideDims_);
  halideRepresentable_ = other.halideRepresentable_;
  buffer_ = other.buffer_;
  buffer_.dim = halideDims_.data();

  // Leave `other` empty (shape [0]) and owning no device memory. If the small allocation fails,
  // `other` keeps a null host pointer; it is still safe to destroy or assign to.
  other.buffer_ = halide_buffer_t{};
  other.dtype_ = DType::F32;
  other.shape_.assign(1, 0);
  other.numel_ = 0;
  try {
    other.allocate();
  } catch (...) {
  }
  other.bindBuffer();
  return *this;
}

Tensor::~Tensor() { releaseDevice(); }

int64_t Tensor::dim(int64_t i) const {
  int64_t r = rank();
  if (i < -r || i >= r)
    throw std::out_of_range("dim(" + std::to_string(i) + "): tensor of shape " + shapeString() +
                            " has rank " + std::to_string(r));
  return shape_[static_cast<std::size_t>(i < 0 ? i + r : i)];
}

void Tensor::checkDType(DType wanted, const char *what) const {
  if (wanted != dtype_)
    throw std::invalid_argument(std::string(what) + ": tensor of shape " + shapeString() +
                                " has dtype " + dtypeName(dtype_) + ", accessed as " +
                                dtypeName(wanted));
}

int64_t Tensor::offsetOf(std::initializer_list<int64_t> index) const {
  if (index.size() != shape_.size())
    throw std::invalid_argument("at: " + std::to_string(index.size()) + " indices " +
                                indexString(index) + " for a tensor of rank " +
                                std::to_string(shape_.size()) + " and shape " + shapeString());
  int64_t offset = 0;
  std::size_t d = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= shape_[d])
      throw std::out_of_range("at: index " + indexString(index) +
                              " is out of bounds for shape " + shapeString());
    offset = offset * shape_[d] + i;
    ++d;
  }
  return offset;
}

const void *Tensor::hostForRead() const {
  if (buffer_.device_dirty() && buffer_.device_interface) {
    if (buffer_.device_interface->copy_to_host(nullptr, &buffer_) != 0)
      throw Error("tensor of shape " + shapeString() +
                               ": copying the device data to the host failed");
    buffer_.set_device_dirty(false);
  }
  return storage_.get();
}

void *Tensor::hostForWrite() {
  void *p = const_cast<void *>(hostForRead());
  if (buffer_.device)
    buffer_.set_host_dirty(true);
  return p;
}

void Tensor::fill(double value) {
  if (dtype_ == DType::F32) {
    float v = static_cast<float>(value);
    float *p = data<float>();
    for (int64_t i = 0; i < numel_; ++i)
      p[i] = v;
    return;
  }
  if (!(value == std::floor(value) && value >= std::numeric_limits<int32_t>::min() &&
        value <= std::numeric_limits<int32_t>::max())) {
    std::ostringstream os;
    os << "fill: value " << value << " is not an int32 value, tensor of shape " << shapeString()
       << " has dtype I32";
    throw std::invalid_argument(os.str());
  }
  int32_t v = static_cast<int32_t>(value);
  int32_t *p = data<int32_t>();
  for (int64_t i = 0; i < numel_; ++i)
    p[i] = v;
}

void Tensor::reshape(std::vector<int64_t> shape) {
  int64_t n = shapeNumel(shape);
  if (n != numel_)
    throw std::invalid_argument("reshape: tensor of shape " + shapeString() + " has " +
                                std::to_string(numel_) + " elements, new shape " +
                                attnrt::shapeString(shape) + " has " + std::to_string(n));
  shape_ = std::move(shape);
  bindBuffer();
}

halide_buffer_t *Tensor::buffer() const {
  if (!halideRepresentable_)
    throw std::invalid_argument("buffer: tensor of shape " + shapeString() +
                                " has an extent or stride beyond Halide's int32 limit");
  return &buffer_;
}

namespace {

void checkComparable(const Tensor &a, const Tensor &b, const char *what) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape())
    throw std::invalid_argument(std::string(what) + ": tensors differ: " + dtypeName(a.dtype()) +
                                a.shapeString() + " vs " + dtypeName(b.dtype()) +
                                b.shapeString());
}

template <class T, class F> void forEachPair(const Tensor &a, const Tensor &b, F f) {
  const T *pa = a.data<T>();
  const T *pb = b.data<T>();
  for (int64_t i = 0; i < a.numel(); ++i)
    f(static_cast<double>(pa[i]), static_cast<double>(pb[i]));
}

template <class F> void forEachPair(const Tensor &a, const Tensor &b, F f) {
  if (a.dtype() == DType::F32)
    forEachPair<float>(a, b, f);
  else
    forEachPair<int32_t>(a, b, f);
}

} // namespace

double maxAbsDiff(const Tensor &a, const Tensor &b) {
  checkComparable(a, b, "maxAbsDiff");
  double worst = 0;
  bool sawNaN = false;
  forEachPair(a, b, [&](double x, double y) {
    double d = x == y ? 0.0 : std::fabs(x - y); // inf == inf is no difference
    if (std::isnan(d))
      sawNaN = true;
    else if (d > worst)
      worst = d;
  });
  return sawNaN ? std::numeric_limits<double>::quiet_NaN() : worst;
}

bool allClose(const Tensor &a, const Tensor &b, double rtol, double atol) {
  checkComparable(a, b, "allClose");
  bool close = true;
  forEachPair(a, b, [&](double x, double y) {
    if (!(x == y || std::fabs(x - y) <= atol + rtol * std::fabs(y)))
      close = false;
  });
  return close;
}

} // namespace attnrt
