// The bitmap font of the heat-map labels (internal to attnrt): 5 x 8 pixel
// glyphs for printable ASCII, drawn by hand for attnrt. Capitals and digits
// use rows 0..6, lower case has its x-height at rows 2..6, and row 7 holds
// descenders (g j p q y , ; _).
#ifndef ATTNRT_SRC_HEATMAPFONT_H
#define ATTNRT_SRC_HEATMAPFONT_H

#include <cstdint>

namespace attnrt {
namespace font {

constexpr int kGlyphWidth = 5;   ///< pixels
constexpr int kGlyphHeight = 8;  ///< pixels, descender row included
constexpr int kGlyphAdvance = 6; ///< glyph plus one pixel of space

/// One row per byte, top row first; bit 4 is the leftmost pixel.
struct Glyph {
  uint8_t rows[kGlyphHeight];
  bool pixel(int x, int y) const { return (rows[y] >> (kGlyphWidth - 1 - x)) & 1; }
};

/// The glyph of a byte: printable ASCII as itself, anything else as a hollow box.
const Glyph &glyph(unsigned char c);
/// A visible space (an open bracket on the baseline), for labels that are a space.
const Glyph &visibleSpace();

} // namespace font
} // namespace attnrt

#endif // ATTNRT_SRC_HEATMAPFONT_H
