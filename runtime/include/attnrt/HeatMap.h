// Alignment heat-maps as PNG images: a grid with one row per output token
// and one column per source token, each cell shaded by its attention weight.
// The source tokens are written along the top and the output tokens along
// the left in a small built-in bitmap font.
//
//   attnrt::writeAlignmentPng("align.png", hyp.attention, rows, S, outChars, srcChars);
//
// The grid, the labels and the PNG are made by attnrt; PNG encoding uses
// libpng (Debian: libpng-dev), which attnrt links privately.
#ifndef ATTNRT_HEATMAP_H
#define ATTNRT_HEATMAP_H

#include <cstdint>
#include <string>
#include <vector>

namespace attnrt {

enum class ColorMap {
  Grays,   ///< weight 0 white, 1 black
  Viridis, ///< weight 0 dark purple, 1 yellow (matplotlib's perceptually uniform map)
};

struct HeatMapOptions {
  int cellSize = 16;          ///< side of a cell in pixels, 1..256
  std::string title;          ///< a line of text above the grid; empty for none
  ColorMap colorMap = ColorMap::Grays;
  bool normalizeRows = false; ///< divide each row by its largest weight before shading
  bool showSpaces = true;     ///< draw a label that is one space as a visible-space mark
  /// Pixels per font pixel for labels and title; 0 picks cellSize / 8 (at least 1).
  /// Labels are drawn only when cellSize >= 8.
  int fontScale = 0;
};

/// An 8-bit RGB image, row-major, 3 bytes a pixel.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

/// Where renderAlignment puts things: cell (r, c) covers pixels
/// [gridLeft + c * cellSize, +cellSize) x [gridTop + r * cellSize, +cellSize).
/// Column labels lie above gridTop, row labels left of gridLeft; the grid has
/// a one-pixel grey frame just outside it.
struct HeatMapLayout {
  int width = 0, height = 0;    ///< of the whole image
  int gridLeft = 0, gridTop = 0;
  int cellSize = 0, fontScale = 0; ///< fontScale 0: no labels drawn
  bool verticalColumnLabels = false; ///< a column label wider than a cell: all read bottom to top
};

/// The layout of the image renderAlignment draws (same checks, same errors).
HeatMapLayout alignmentLayout(int rows, int cols, const std::vector<std::string> &rowLabels,
                              const std::vector<std::string> &colLabels,
                              const HeatMapOptions &opts = {});

/// Draws the heat-map of `weights` (rows x cols, row-major: weights[r * cols + c]
/// is output token r's weight on source token c). Weights are clamped to
/// [0, 1]; NaN or infinite ones are an error. rowLabels has one label per row
/// and colLabels one per column, or either is empty for no labels. Labels are
/// drawn byte by byte: printable ASCII as itself, other bytes as a hollow box.
/// Throws std::invalid_argument for bad sizes or options, stating the values.
RgbImage renderAlignment(const std::vector<float> &weights, int rows, int cols,
                         const std::vector<std::string> &rowLabels,
                         const std::vector<std::string> &colLabels,
                         const HeatMapOptions &opts = {});

/// Writes `image` as a PNG file, atomically: through `<path>.tmp.<pid>`,
/// fsync'ed and renamed over `path`. Throws attnrt::Error (naming the path)
/// if the file cannot be written, leaving any previous file as it was, and
/// std::invalid_argument if the image's sizes do not match its pixels.
void writePng(const std::string &path, const RgbImage &image);

/// renderAlignment, then writePng.
void writeAlignmentPng(const std::string &path, const std::vector<float> &weights, int rows,
                       int cols, const std::vector<std::string> &rowLabels,
                       const std::vector<std::string> &colLabels,
                       const HeatMapOptions &opts = {});

} // namespace attnrt

#endif // ATTNRT_HEATMAP_H
