// Alignment heat-maps: layout, shading and labels. PNG output is in HeatMapPng.cpp and the
// label font in HeatMapFont.cpp.
#include "attnrt/HeatMap.h"

#include "HeatMapFont.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace attnrt {

namespace {

constexpr int kMargin = 4;                   // white border around everything, pixels
constexpr int64_t kMaxSide = 32768;          // pixels
constexpr int64_t kMaxPixels = int64_t{1} << 26; // 64 Mi pixels: 192 MiB of RGB

struct Rgb {
  uint8_t r, g, b;
};
constexpr Rgb kWhite{255, 255, 255}, kInk{0, 0, 0}, kFrame{150, 150, 150};

// matplotlib's viridis (CC0) at 0, 1/8, ..., 1; interpolated linearly in between.
constexpr Rgb kViridis[9] = {{0x44, 0x01, 0x54}, {0x47, 0x2d, 0x7b}, {0x3b, 0x52, 0x8b},
                             {0x2c, 0x72, 0x8e}, {0x21, 0x90, 0x8c}, {0x27, 0xad, 0x81},
                             {0x5d, 0xc8, 0x63}, {0xaa, 0xdc, 0x32}, {0xfd, 0xe7, 0x25}};

[[noreturn]] void bad(const char *who, const std::string &what) {
  throw std::invalid_argument(std::string(who) + ": " + what);
}

int textWidth(const std::string &text, int scale) {
  if (text.empty())
    return 0;
  return (static_cast<int>(text.size()) * font::kGlyphAdvance - 1) * scale;
}

int widest(const std::vector<std::string> &labels, int scale) {
  int w = 0;
  for (const std::string &l : labels)
    w = std::max(w, textWidth(l, scale));
  return w;
}

void checkLabels(const char *who, const char *name, const std::vector<std::string> &labels,
                 const char *dim, int expected) {
  if (!labels.empty() && labels.size() != static_cast<size_t>(expected))
    bad(who, std::string(name) + " has " + std::to_string(labels.size()) + " labels, expected " +
                 dim + " = " + std::to_string(expected) + " (or none)");
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i].size() > 1000)
      bad(who, std::string(name) + "[" + std::to_string(i) + "] has " +
                   std::to_string(labels[i].size()) + " bytes, at most 1000");
}

HeatMapLayout layoutFor(const char *who, int rows, int cols,
                        const std::vector<std::string> &rowLabels,
                        const std::vector<std::string> &colLabels, const HeatMapOptions &opts) {
  if (rows < 1 || cols < 1)
    bad(who, "rows = " + std::to_string(rows) + ", cols = " + std::to_string(cols) +
                 ", expected both >= 1");
  checkLabels(who, "rowLabels", rowLabels, "rows", rows);
  checkLabels(who, "colLabels", colLabels, "cols", cols);
  if (opts.cellSize < 1 || opts.cellSize > 256)
    bad(who, "options.cellSize = " + std::to_string(opts.cellSize) + ", expected 1..256");
  if (opts.fontScale < 0 || opts.fontScale > 16)
    bad(who, "options.fontScale = " + std::to_string(opts.fontScale) +
                 ", expected 0 (automatic) or 1..16");
  if (opts.title.size() > 1000)
    bad(who, "options.title has " + std::to_string(opts.title.size()) + " bytes, at most 1000");

  HeatMapLayout l;
  l.cellSize = opts.cellSize;
  const int titleScale = opts.fontScale ? opts.fontScale : std::max(1, opts.cellSize / 8);
  l.fontScale = opts.cellSize >= 8 ? titleScale : 0;
  const int s = l.fontScale;
  const int gap = std::max(3, 2 * titleScale); // between text and the grid's frame

  const int rowW = s ? widest(rowLabels, s) : 0;
  const int colW = s ? widest(colLabels, s) : 0;
  l.verticalColumnLabels = colW > opts.cellSize;
  const int colH = colW == 0 ? 0 : l.verticalColumnLabels ? colW : font::kGlyphHeight * s;
  const int titleW = textWidth(opts.title, titleScale);
  const int titleH = opts.title.empty() ? 0 : font::kGlyphHeight * titleScale + 2 * gap;

  l.gridLeft = kMargin + 1 + (rowW ? rowW + gap : 0);
  l.gridTop = kMargin + titleH + 1 + (colH ? colH + gap : 0);
  const int64_t width = std::max<int64_t>(
      l.gridLeft + int64_t{cols} * opts.cellSize + 1 + kMargin, 2 * kMargin + titleW);
  const int64_t height = l.gridTop + int64_t{rows} * opts.cellSize + 1 + kMargin;
  if (width > kMaxSide || height > kMaxSide || width * height > kMaxPixels)
    bad(who, "the image would be " + std::to_string(width) + " x " + std::to_string(height) +
                 " pixels (" + std::to_string(rows) + " x " + std::to_string(cols) +
                 " cells of " + std::to_string(opts.cellSize) + " pixels); the limit is " +
                 std::to_string(kMaxSide) + " a side and " + std::to_string(kMaxPixels) +
                 " pixels in all (use a smaller cellSize)");
  l.width = static_cast<int>(width);
  l.height = static_cast<int>(height);
  return l;
}

/// Draws into an image, clipping at its edges.
class Canvas {
public:
  explicit Canvas(RgbImage &img) : img_(img) {}

  void fill(int x, int y, int w, int h, Rgb c) {
    const int x0 = std::max(x, 0), x1 = std::min(x + w, img_.width);
    const int y0 = std::max(y, 0), y1 = std::min(y + h, img_.height);
    for (int yy = y0; yy < y1; ++yy)
      for (int xx = x0; xx < x1; ++xx) {
        uint8_t *p = &img_.rgb[(static_cast<size_t>(yy) * img_.width + xx) * 3];
        p[0] = c.r, p[1] = c.g, p[2] = c.b;
      }
  }

  /// Text left to right with its top-left corner at (x, y).
  void text(int x, int y, const std::string &s, int scale, bool showSpace) {
    for (size_t i = 0; i < s.size(); ++i) {
      const font::Glyph &g = glyphOf(s, i, showSpace);
      const int ox = x + static_cast<int>(i) * font::kGlyphAdvance * scale;
      for (int gy = 0; gy < font::kGlyphHeight; ++gy)
        for (int gx = 0; gx < font::kGlyphWidth; ++gx)
          if (g.pixel(gx, gy))
            fill(ox + gx * scale, y + gy * scale, scale, scale, kInk);
    }
  }

  /// Text turned a quarter anticlockwise (reading bottom to top) in the box
  /// whose top-left corner is (x, y): kGlyphHeight * scale wide, as tall as the
  /// text is wide.
  void textUpwards(int x, int y, const std::string &s, int scale, bool showSpace) {
    const int length = textWidth(s, scale);
    for (size_t i = 0; i < s.size(); ++i) {
      const font::Glyph &g = glyphOf(s, i, showSpace);
      const int along = static_cast<int>(i) * font::kGlyphAdvance * scale;
      for (int gy = 0; gy < font::kGlyphHeight; ++gy)
        for (int gx = 0; gx < font::kGlyphWidth; ++gx)
          if (g.pixel(gx, gy))
            fill(x + gy * scale, y + length - along - (gx + 1) * scale, scale, scale, kInk);
    }
  }

private:
  static const font::Glyph &glyphOf(const std::string &s, size_t i, bool showSpace) {
    return showSpace && s == " " ? font::visibleSpace()
                                 : font::glyph(static_cast<unsigned char>(s[i]));
  }
  RgbImage &img_;
};

Rgb shade(float w, ColorMap map) {
  if (map == ColorMap::Viridis) {
    const float t = w * 8.0f;
    const int i = std::min(7, static_cast<int>(t));
    const float f = t - static_cast<float>(i);
    auto mix = [f](uint8_t a, uint8_t b) {
      return static_cast<uint8_t>(std::lround(a + (static_cast<float>(b) - a) * f));
    };
    return {mix(kViridis[i].r, kViridis[i + 1].r), mix(kViridis[i].g, kViridis[i + 1].g),
            mix(kViridis[i].b, kViridis[i + 1].b)};
  }
  const auto v = static_cast<uint8_t>(255 - std::lround(255.0f * w));
  return {v, v, v};
}

RgbImage render(const char *who, const std::vector<float> &weights, int rows, int cols,
                const std::vector<std::string> &rowLabels,
                const std::vector<std::string> &colLabels, const HeatMapOptions &opts) {
  const HeatMapLayout l = layoutFor(who, rows, cols, rowLabels, colLabels, opts);
  const size_t cells = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  if (weights.size() != cells)
    bad(who, "weights has " + std::to_string(weights.size()) + " values, expected rows x cols = " +
                 std::to_string(rows) + " x " + std::to_string(cols) + " = " +
                 std::to_string(cells));
  for (size_t i = 0; i < cells; ++i)
    if (!std::isfinite(weights[i]))
      bad(who, "weights[" + std::to_string(i) + "] (row " + std::to_string(i / cols) +
                   ", column " + std::to_string(i % cols) + ") is " +
                   (std::isnan(weights[i]) ? "NaN" : "infinite") + ", expected a weight in [0, 1]");

  RgbImage img;
  img.width = l.width;
  img.height = l.height;
  img.rgb.assign(static_cast<size_t>(l.width) * l.height * 3, 255);
  Canvas canvas(img);
  const int cell = l.cellSize;

  // The grid and its frame.
  canvas.fill(l.gridLeft - 1, l.gridTop - 1, cols * cell + 2, rows * cell + 2, kFrame);
  for (int r = 0; r < rows; ++r) {
    const float *row = weights.data() + static_cast<size_t>(r) * cols;
    float top = 1.0f;
    if (opts.normalizeRows) {
      top = 0.0f;
      for (int c = 0; c < cols; ++c)
        top = std::max(top, std::clamp(row[c], 0.0f, 1.0f));
    }
    for (int c = 0; c < cols; ++c) {
      float w = std::clamp(row[c], 0.0f, 1.0f);
      if (opts.normalizeRows)
        w = top > 0.0f ? w / top : 0.0f;
      canvas.fill(l.gridLeft + c * cell, l.gridTop + r * cell, cell, cell,
                  shade(w, opts.colorMap));
    }
  }

  // Title, then the labels.
  const int titleScale = opts.fontScale ? opts.fontScale : std::max(1, opts.cellSize / 8);
  const int gap = std::max(3, 2 * titleScale);
  if (!opts.title.empty())
    canvas.text(kMargin, kMargin, opts.title, titleScale, false);
  const int s = l.fontScale;
  if (s == 0)
    return img;
  const int glyphH = font::kGlyphHeight * s;
  for (int r = 0; r < static_cast<int>(rowLabels.size()); ++r)
    canvas.text(l.gridLeft - 1 - gap - textWidth(rowLabels[r], s),
                l.gridTop + r * cell + (cell - glyphH) / 2, rowLabels[r], s, opts.showSpaces);
  for (int c = 0; c < static_cast<int>(colLabels.size()); ++c) {
    const std::string &label = colLabels[c];
    const int w = textWidth(label, s);
    if (l.verticalColumnLabels)
      canvas.textUpwards(l.gridLeft + c * cell + (cell - glyphH) / 2, l.gridTop - 1 - gap - w,
                         label, s, opts.showSpaces);
    else
      canvas.text(l.gridLeft + c * cell + (cell - w) / 2, l.gridTop - 1 - gap - glyphH, label,
                  s, opts.showSpaces);
  }
  return img;
}

} // namespace

HeatMapLayout alignmentLayout(int rows, int cols, const std::vector<std::string> &rowLabels,
                              const std::vector<std::string> &colLabels,
                              const HeatMapOptions &opts) {
  return layoutFor("alignmentLayout", rows, cols, rowLabels, colLabels, opts);
}

RgbImage renderAlignment(const std::vector<float> &weights, int rows, int cols,
                         const std::vector<std::string> &rowLabels,
                         const std::vector<std::string> &colLabels, const HeatMapOptions &opts) {
  return render("renderAlignment", weights, rows, cols, rowLabels, colLabels, opts);
}

void writeAlignmentPng(const std::string &path, const std::vector<float> &weights, int rows,
                       int cols, const std::vector<std::string> &rowLabels,
                       const std::vector<std::string> &colLabels, const HeatMapOptions &opts) {
  const std::string who = "writeAlignmentPng('" + path + "')";
  writePng(path, render(who.c_str(), weights, rows, cols, rowLabels, colLabels, opts));
}

} // namespace attnrt
