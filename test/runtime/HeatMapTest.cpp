#include "TestUtil.h"

#include "attnrt/Error.h"
#include "attnrt/HeatMap.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <set>
#include <stdexcept>

using attnrt::HeatMapLayout;
using attnrt::HeatMapOptions;
using attnrt::RgbImage;
using attnrt_test::TempDir;

namespace {

/// A PNG file read back with libpng's simplified API, as 8-bit RGB.
RgbImage readPng(const std::string &path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str()))
    throw std::runtime_error("cannot read '" + path + "': " + image.message);
  image.format = PNG_FORMAT_RGB;
  RgbImage out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  out.rgb.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.rgb.data(), 0, nullptr))
    throw std::runtime_error("cannot decode '" + path + "': " + image.message);
  return out;
}

struct Pixel {
  int r, g, b;
  int brightness() const { return r + g + b; }
  bool operator==(const Pixel &o) const { return r == o.r && g == o.g && b == o.b; }
};

Pixel at(const RgbImage &img, int x, int y) {
  const uint8_t *p = &img.rgb[(static_cast<size_t>(y) * img.width + x) * 3];
  return {p[0], p[1], p[2]};
}

/// The middle pixel of cell (r, c).
Pixel cell(const RgbImage &img, const HeatMapLayout &l, int r, int c) {
  return at(img, l.gridLeft + c * l.cellSize + l.cellSize / 2,
            l.gridTop + r * l.cellSize + l.cellSize / 2);
}

/// Pixels darker than mid-grey in [x0, x1) x [y0, y1): ink, not paper or frame.
int inkIn(const RgbImage &img, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = std::max(y0, 0); y < std::min(y1, img.height); ++y)
    for (int x = std::max(x0, 0); x < std::min(x1, img.width); ++x)
      n += at(img, x, y).brightness() < 3 * 100;
  return n;
}

std::vector<std::string> chars(const std::string &s) {
  std::vector<std::string> v;
  for (char c : s)
    v.emplace_back(1, c);
  return v;
}

std::string invalidArgument(const std::function<void()> &f) {
  try {
    f();
  } catch (const std::invalid_argument &e) {
    return e.what();
  }
  return "(no std::invalid_argument)";
}

// Output "abc" over source "xyzw": row r attends mostly to column r.
const std::vector<float> kWeights = {0.7f, 0.1f, 0.1f, 0.1f, //
                                     0.0f, 1.0f, 0.0f, 0.0f, //
                                     0.1f, 0.2f, 0.3f, 0.4f};

} // namespace

TEST(HeatMap, WritesThePngItRenders) {
  TempDir dir;
  const std::string path = dir.file("align.png");
  attnrt::writeAlignmentPng(path, kWeights, 3, 4, chars("abc"), chars("xyzw"));
  RgbImage back = readPng(path);
  HeatMapLayout l = attnrt::alignmentLayout(3, 4, chars("abc"), chars("xyzw"));
  EXPECT_EQ(back.width, l.width);
  EXPECT_EQ(back.height, l.height);
  EXPECT_GE(l.width, l.gridLeft + 4 * 16);
  EXPECT_GE(l.height, l.gridTop + 3 * 16);
  EXPECT_EQ(l.cellSize, 16);
  EXPECT_EQ(l.fontScale, 2);
  EXPECT_FALSE(l.verticalColumnLabels);
  RgbImage rendered = attnrt::renderAlignment(kWeights, 3, 4, chars("abc"), chars("xyzw"));
  EXPECT_EQ(back.rgb, rendered.rgb);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"align.png"}); // no temporary left
}

TEST(HeatMap, HeavierWeightsAreDarker) {
  HeatMapLayout l = attnrt::alignmentLayout(3, 4, {}, {});
  RgbImage img = attnrt::renderAlignment(kWeights, 3, 4, {}, {});
  EXPECT_EQ(cell(img, l, 1, 1), (Pixel{0, 0, 0}));       // weight 1: black
  EXPECT_EQ(cell(img, l, 1, 0), (Pixel{255, 255, 255})); // weight 0: white
  EXPECT_LT(cell(img, l, 1, 1).brightness(), cell(img, l, 1, 0).brightness());
  EXPECT_LT(cell(img, l, 2, 3).brightness(), cell(img, l, 2, 2).brightness());
  EXPECT_LT(cell(img, l, 2, 2).brightness(), cell(img, l, 2, 1).brightness());
  // A cell is a uniform square of cellSize pixels.
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      ASSERT_EQ(at(img, l.gridLeft + 16 + x, l.gridTop + 16 + y), (Pixel{0, 0, 0}));
  EXPECT_EQ(at(img, l.gridLeft + 32, l.gridTop + 16), (Pixel{255, 255, 255}));
}

TEST(HeatMap, WeightsAreClampedAndRowsCanBeNormalised) {
  HeatMapLayout l = attnrt::alignmentLayout(1, 4, {}, {});
  RgbImage img = attnrt::renderAlignment({1.5f, -0.5f, 0.5f, 0.25f}, 1, 4, {}, {});
  EXPECT_EQ(cell(img, l, 0, 0), (Pixel{0, 0, 0}));
  EXPECT_EQ(cell(img, l, 0, 1), (Pixel{255, 255, 255}));
  EXPECT_EQ(cell(img, l, 0, 2).r, 127);

  HeatMapOptions opts;
  opts.normalizeRows = true;
  img = attnrt::renderAlignment({0.1f, 0.2f, 0.05f, 0.0f}, 1, 4, {}, {}, opts);
  EXPECT_EQ(cell(img, l, 0, 1), (Pixel{0, 0, 0}));   // the row's maximum
  EXPECT_EQ(cell(img, l, 0, 0).r, 127);              // half of it
  EXPECT_EQ(cell(img, l, 0, 3), (Pixel{255, 255, 255}));
  img = attnrt::renderAlignment({0, 0, 0, 0}, 1, 4, {}, {}, opts); // an all-zero row stays white
  EXPECT_EQ(cell(img, l, 0, 0), (Pixel{255, 255, 255}));
}

TEST(HeatMap, ViridisColours) {
  HeatMapOptions opts;
  opts.colorMap = attnrt::ColorMap::Viridis;
  HeatMapLayout l = attnrt::alignmentLayout(1, 3, {}, {}, opts);
  RgbImage img = attnrt::renderAlignment({0.0f, 0.5f, 1.0f}, 1, 3, {}, {}, opts);
  EXPECT_EQ(cell(img, l, 0, 0), (Pixel{0x44, 0x01, 0x54})); // dark purple
  EXPECT_EQ(cell(img, l, 0, 1), (Pixel{0x21, 0x90, 0x8c})); // teal
  EXPECT_EQ(cell(img, l, 0, 2), (Pixel{0xfd, 0xe7, 0x25})); // yellow
}

TEST(HeatMap, LabelsAboveAndLeftOfTheGrid) {
  HeatMapLayout l = attnrt::alignmentLayout(3, 4, chars("abc"), chars("xyzw"));
  RgbImage img = attnrt::renderAlignment(kWeights, 3, 4, chars("abc"), chars("xyzw"));
  const int right = l.gridLeft + 4 * l.cellSize, bottom = l.gridTop + 3 * l.cellSize;
  // Each source character above its own column, each output character left of its row.
  for (int c = 0; c < 4; ++c)
    EXPECT_GT(inkIn(img, l.gridLeft + c * 16, 0, l.gridLeft + (c + 1) * 16, l.gridTop - 1), 8)
        << "column " << c;
  for (int r = 0; r < 3; ++r)
    EXPECT_GT(inkIn(img, 0, l.gridTop + r * 16, l.gridLeft - 1, l.gridTop + (r + 1) * 16), 8)
        << "row " << r;
  // Nothing above-left of the grid, right of it or below it.
  EXPECT_EQ(inkIn(img, 0, 0, l.gridLeft - 1, l.gridTop - 1), 0);
  EXPECT_EQ(inkIn(img, right + 1, 0, img.width, img.height), 0);
  EXPECT_EQ(inkIn(img, 0, bottom + 1, img.width, img.height), 0);

  // Without labels the grid moves up and left and there is no ink outside it.
  HeatMapLayout bare = attnrt::alignmentLayout(3, 4, {}, {});
  RgbImage plain = attnrt::renderAlignment(kWeights, 3, 4, {}, {});
  EXPECT_LT(bare.gridTop, l.gridTop);
  EXPECT_LT(bare.gridLeft, l.gridLeft);
  EXPECT_EQ(inkIn(plain, 0, 0, plain.width, bare.gridTop - 1), 0);
  EXPECT_EQ(inkIn(plain, 0, 0, bare.gridLeft - 1, plain.height), 0);
}

TEST(HeatMap, OnlyTheLabelledColumnHasInk) {
  HeatMapLayout l = attnrt::alignmentLayout(1, 3, {}, {"", "", "Q"});
  RgbImage img = attnrt::renderAlignment({0, 0, 0}, 1, 3, {}, {"", "", "Q"});
  EXPECT_EQ(inkIn(img, 0, 0, l.gridLeft + 2 * 16, l.gridTop - 1), 0);
  EXPECT_GT(inkIn(img, l.gridLeft + 2 * 16, 0, l.gridLeft + 3 * 16, l.gridTop - 1), 8);
}

TEST(HeatMap, LongColumnLabelsReadUpwards) {
  const std::vector<std::string> cols = {"<bos>", "a", "<eos>"};
  HeatMapLayout l = attnrt::alignmentLayout(1, 3, {"<eos>"}, cols);
  EXPECT_TRUE(l.verticalColumnLabels);
  // "<bos>" is 5 glyphs: 29 font pixels long, at scale 2 that is 58 pixels tall.
  EXPECT_GE(l.gridTop, 58);
  RgbImage img = attnrt::renderAlignment({0.2f, 0.3f, 0.5f}, 1, 3, {"<eos>"}, cols);
  for (int c = 0; c < 3; ++c)
    EXPECT_GT(inkIn(img, l.gridLeft + c * 16, 0, l.gridLeft + (c + 1) * 16, l.gridTop - 1), 4);
  // The long labels reach far above the grid, the one-character label does not.
  EXPECT_GT(inkIn(img, l.gridLeft, 0, l.gridLeft + 16, l.gridTop - 40), 0);
  EXPECT_EQ(inkIn(img, l.gridLeft + 16, 0, l.gridLeft + 32, l.gridTop - 40), 0);
}

TEST(HeatMap, TitleAndVisibleSpaces) {
  HeatMapOptions opts;
  opts.title = "attention";
  HeatMapLayout withTitle = attnrt::alignmentLayout(1, 2, {}, {"a", " "}, opts);
  HeatMapLayout without = attnrt::alignmentLayout(1, 2, {}, {"a", " "});
  EXPECT_GT(withTitle.gridTop, without.gridTop);
  // The title is wider than the two-column grid: the image widens for it.
  EXPECT_GT(withTitle.width, without.width);
  RgbImage img = attnrt::renderAlignment({0.5f, 0.5f}, 1, 2, {}, {"a", " "}, opts);
  EXPECT_GT(inkIn(img, 0, 0, img.width, 4 + 16), 50); // the title's band

  // A space label is drawn as a mark, unless showSpaces is off.
  const int x0 = without.gridLeft + 16, x1 = without.gridLeft + 32;
  RgbImage spaced = attnrt::renderAlignment({0.5f, 0.5f}, 1, 2, {}, {"a", " "});
  EXPECT_GT(inkIn(spaced, x0, 0, x1, without.gridTop - 1), 0);
  HeatMapOptions hidden;
  hidden.showSpaces = false;
  RgbImage blank = attnrt::renderAlignment({0.5f, 0.5f}, 1, 2, {}, {"a", " "}, hidden);
  EXPECT_EQ(inkIn(blank, x0, 0, x1, without.gridTop - 1), 0);
}

// Every printable character has its own glyph; only the space is blank.
TEST(HeatMap, FontGlyphsAreDistinct) {
  std::set<std::vector<uint8_t>> seen;
  HeatMapOptions opts;
  opts.showSpaces = false;
  for (char c = ' '; c <= '~'; ++c) {
    HeatMapLayout l = attnrt::alignmentLayout(1, 1, {}, {std::string(1, c)}, opts);
    RgbImage img = attnrt::renderAlignment({0}, 1, 1, {}, {std::string(1, c)}, opts);
    std::vector<uint8_t> label(img.rgb.begin(),
                               img.rgb.begin() + static_cast<size_t>(l.gridTop - 1) * img.width * 3);
    const int ink = inkIn(img, 0, 0, img.width, l.gridTop - 1);
    if (c == ' ')
      EXPECT_EQ(ink, 0);
    else
      EXPECT_GT(ink, 0) << "'" << c << "'";
    EXPECT_TRUE(seen.insert(label).second) << "'" << c << "' looks like another character";
  }
  // A byte outside printable ASCII is a box, like no printable character.
  HeatMapLayout l = attnrt::alignmentLayout(1, 1, {}, {"\x01"});
  RgbImage img = attnrt::renderAlignment({0}, 1, 1, {}, {"\x01"});
  std::vector<uint8_t> label(img.rgb.begin(),
                             img.rgb.begin() + static_cast<size_t>(l.gridTop - 1) * img.width * 3);
  EXPECT_TRUE(seen.insert(label).second);
}

TEST(HeatMap, SmallCellsHaveNoLabels) {
  HeatMapOptions opts;
  opts.cellSize = 4;
  HeatMapLayout l = attnrt::alignmentLayout(2, 2, chars("ab"), chars("cd"), opts);
  EXPECT_EQ(l.fontScale, 0);
  RgbImage img = attnrt::renderAlignment({1, 0, 0, 1}, 2, 2, chars("ab"), chars("cd"), opts);
  EXPECT_EQ(img.width, l.width);
  EXPECT_EQ(cell(img, l, 0, 0), (Pixel{0, 0, 0}));
  EXPECT_EQ(inkIn(img, 0, 0, img.width, l.gridTop - 1), 0);
}

TEST(HeatMap, SizeErrors) {
  EXPECT_EQ(invalidArgument([] { attnrt::renderAlignment(kWeights, 3, 5, {}, {}); }),
            "renderAlignment: weights has 12 values, expected rows x cols = 3 x 5 = 15");
  EXPECT_EQ(invalidArgument([] { attnrt::renderAlignment(kWeights, 3, 4, chars("ab"), {}); }),
            "renderAlignment: rowLabels has 2 labels, expected rows = 3 (or none)");
  EXPECT_EQ(invalidArgument([] { attnrt::renderAlignment(kWeights, 3, 4, {}, chars("xyzwv")); }),
            "renderAlignment: colLabels has 5 labels, expected cols = 4 (or none)");
  EXPECT_EQ(invalidArgument([] { attnrt::renderAlignment({}, 0, 4, {}, {}); }),
            "renderAlignment: rows = 0, cols = 4, expected both >= 1");
  EXPECT_EQ(invalidArgument([] {
              attnrt::renderAlignment({0.5f, std::nanf("")}, 1, 2, {}, {});
            }),
            "renderAlignment: weights[1] (row 0, column 1) is NaN, expected a weight in [0, 1]");
  HeatMapOptions opts;
  opts.cellSize = 0;
  EXPECT_EQ(invalidArgument([&] { attnrt::renderAlignment({1}, 1, 1, {}, {}, opts); }),
            "renderAlignment: options.cellSize = 0, expected 1..256");
  opts.cellSize = 16;
  opts.fontScale = -1;
  EXPECT_EQ(invalidArgument([&] { attnrt::alignmentLayout(1, 1, {}, {}, opts); }),
            "alignmentLayout: options.fontScale = -1, expected 0 (automatic) or 1..16");
  EXPECT_EQ(invalidArgument([] { attnrt::alignmentLayout(10, 5000, {}, {}); }),
            "alignmentLayout: the image would be 80010 x 170 pixels (10 x 5000 cells of 16 "
            "pixels); the limit is 32768 a side and 67108864 pixels in all (use a smaller "
            "cellSize)");
  EXPECT_NE(invalidArgument([] { attnrt::writePng("x.png", RgbImage{2, 2, {0, 0, 0}}); })
                .find("writePng('x.png'): image is 2 x 2 with 3 bytes"),
            std::string::npos);
}

TEST(HeatMap, WriteErrorsNameThePath) {
  TempDir dir;
  const std::string path = dir.file("missing/align.png");
  EXPECT_EQ(invalidArgument([&] { attnrt::writeAlignmentPng(path, kWeights, 2, 4, {}, {}); }),
            "writeAlignmentPng('" + path +
                "'): weights has 12 values, expected rows x cols = 2 x 4 = 8");
  try {
    attnrt::writeAlignmentPng(path, kWeights, 3, 4, {}, {});
    FAIL() << "no attnrt::Error";
  } catch (const attnrt::Error &e) {
    EXPECT_NE(std::string(e.what()).find("cannot write PNG file '" + path + "'"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos)
        << e.what();
  }
  // A directory in the way: the rename fails, the temporary is removed.
  const std::string taken = dir.file("taken.png");
  std::filesystem::create_directory(taken);
  std::filesystem::create_directory(taken + "/inside");
  EXPECT_THROW(attnrt::writeAlignmentPng(taken, kWeights, 3, 4, {}, {}), attnrt::Error);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"taken.png"});
}

TEST(HeatMap, OverwritesAtomically) {
  TempDir dir;
  const std::string path = dir.file("a.png");
  attnrt::writeAlignmentPng(path, kWeights, 3, 4, {}, {});
  attnrt::writeAlignmentPng(path, {1.0f}, 1, 1, {}, {});
  RgbImage back = readPng(path);
  HeatMapLayout l = attnrt::alignmentLayout(1, 1, {}, {});
  EXPECT_EQ(back.width, l.width);
  EXPECT_EQ(cell(back, l, 0, 0), (Pixel{0, 0, 0}));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"a.png"});
}
