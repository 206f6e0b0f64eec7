// runRecurrence / SliceView against a hand-written step "kernel" with the
// argv convention of Halide AOT functions: h_t = h_{t-1} + x_t (+ c), kept
// unchanged where t >= lengths[b].
#include "attnrt/Error.h"
#include "attnrt/Recurrence.h"

#include <gtest/gtest.h>

namespace {

using attnrt::DType;
using attnrt::Tensor;

// argv: x_t [B, D], h_prev [B, D], c [D], lengths [B], &t, h_t [B, D]
int addStep(void **argv) {
  auto *x = static_cast<halide_buffer_t *>(argv[0]);
  auto *prev = static_cast<halide_buffer_t *>(argv[1]);
  auto *c = static_cast<halide_buffer_t *>(argv[2]);
  auto *len = static_cast<halide_buffer_t *>(argv[3]);
  int32_t t = *static_cast<int32_t *>(argv[4]);
  auto *out = static_cast<halide_buffer_t *>(argv[5]);
  if (x->dimensions != 2 || prev->dimensions != 2 || out->dimensions != 2)
    return -1;
  int D = out->dim[0].extent, B = out->dim[1].extent;
  auto at = [](halide_buffer_t *b, int d, int row) -> float & {
    return reinterpret_cast<float *>(
        b->host)[d * b->dim[0].stride + row * b->dim[1].stride];
  };
  for (int b = 0; b < B; ++b) {
    bool live = t < reinterpret_cast<int32_t *>(len->host)[b];
    for (int d = 0; d < D; ++d)
      at(out, d, b) = live ? at(prev, d, b) + at(x, d, b) +
                                 reinterpret_cast<float *>(c->host)[d]
                           : at(prev, d, b);
  }
  return 0;
}

int failingStep(void **) { return -7; }

struct Fixture {
  Tensor x{DType::F32, {2, 4, 3}}; // [B, T, D]
  Tensor h0{DType::F32, {2, 3}};
  Tensor c = Tensor::fromVector<float>({3}, {0.5f, 0.0f, -1.0f});
  Tensor lengths = Tensor::fromVector<int32_t>({2}, {4, 2});
  Tensor hs{DType::F32, {2, 4, 3}};
  Fixture() {
    for (int b = 0; b < 2; ++b)
      for (int t = 0; t < 4; ++t)
        for (int d = 0; d < 3; ++d)
          x.at({b, t, d}) = static_cast<float>(100 * b + 10 * t + d);
    h0.fill(1.0);
  }
  attnrt::RecurrenceArgs args(bool reverse) {
    attnrt::RecurrenceArgs a;
    a.sequences = {&x};
    a.inits = {&h0};
    a.captured = {&c};
    a.lengths = &lengths;
    a.results = {&hs};
    a.reverse = reverse;
    return a;
  }
};

TEST(Recurrence, ForwardMatchesAHandLoop) {
  Fixture f;
  attnrt::runRecurrence("add", addStep, f.args(false));
  for (int b = 0; b < 2; ++b)
    for (int d = 0; d < 3; ++d) {
      double h = 1.0;
      for (int t = 0; t < 4; ++t) {
        if (t < f.lengths.at<int32_t>({b}))
          h += f.x.at({b, t, d}) + f.c.at({d});
        EXPECT_FLOAT_EQ(f.hs.at({b, t, d}), h) << b << " " << t << " " << d;
      }
    }
}

TEST(Recurrence, ReverseRunsFromTheEnd) {
  Fixture f;
  attnrt::runRecurrence("add", addStep, f.args(true));
  for (int b = 0; b < 2; ++b)
    for (int d = 0; d < 3; ++d) {
      double h = 1.0;
      for (int t = 3; t >= 0; --t) {
        if (t < f.lengths.at<int32_t>({b}))
          h += f.x.at({b, t, d}) + f.c.at({d});
        EXPECT_FLOAT_EQ(f.hs.at({b, t, d}), h) << b << " " << t << " " << d;
      }
    }
}

TEST(Recurrence, SliceViewSharesMemory) {
  Tensor t(DType::F32, {2, 3, 4});
  t.at({1, 2, 3}) = 5.0f;
  attnrt::SliceView view(t, 1, 2);
  halide_buffer_t *b = view.buffer();
  ASSERT_EQ(b->dimensions, 2);
  EXPECT_EQ(b->dim[0].extent, 4);
  EXPECT_EQ(b->dim[1].extent, 2);
  EXPECT_EQ(b->dim[1].stride, 12);
  EXPECT_EQ(reinterpret_cast<float *>(b->host)[3 + 1 * 12], 5.0f);
}

TEST(Recurrence, ErrorsAreReported) {
  Fixture f;
  EXPECT_THROW(attnrt::runRecurrence("bad", failingStep, f.args(false)),
               attnrt::Error);
  Tensor shorter(DType::F32, {2, 3, 3});
  auto args = f.args(false);
  args.sequences = {&shorter};
  EXPECT_THROW(attnrt::runRecurrence("add", addStep, args),
               std::invalid_argument);
}

} // namespace
