// The .attn initialiser gate_constant reaches the generated Model: its
// parameters hold the sliced constants after construction, for every seed,
// and the LSTM sees them (W and U set to zero leave z = b, so the forget
// gate is sigmoid(1) and the others sigmoid(0), tanh(0)).
#include "inits.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

TEST(ParamInit, GateConstantReachesTheCompiledModel) {
  for (uint64_t seed : {1u, 7u}) {
    inits::Model model(seed);
    // b : [4H], H = 3, gates i, f, g, o: slice 1 (the forget gate) is 1.
    EXPECT_EQ(model.b().shape(), (std::vector<int64_t>{12}));
    EXPECT_EQ(model.b().toVector<float>(),
              (std::vector<float>{0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
    // V : [D, 3H], D = 2: slice 2 of the last axis, in every row.
    EXPECT_EQ(model.V().toVector<float>(),
              (std::vector<float>{0, 0, 0, 0, 0, 0, -0.5f, -0.5f, -0.5f,
                                  0, 0, 0, 0, 0, 0, -0.5f, -0.5f, -0.5f}));
  }
}

TEST(ParamInit, ForgetGateBiasDrivesTheLstm) {
  inits::Model model(3);
  // W feeds x0 + x1 into every unit of the cell-input block g (columns 2H..3H) and
  // nothing else; U = 0. So z = b + [0, 0, s, 0] with s = x0 + x1: i = o = 1/2,
  // f = sigmoid(1) (the forget-gate bias), g = tanh(s).
  model.U().fill(0);
  model.W().fill(0);
  float *w = model.W().data<float>();
  for (int d = 0; d < 2; ++d)
    for (int j = 6; j < 9; ++j)
      w[d * 12 + j] = 1;
  attnrt::Tensor x = attnrt::Tensor::fromVector<float>({1, 2, 2}, {0.25f, 0.5f, -1.f, 0.5f});
  auto out = model.forward(x, std::vector<int32_t>{2});
  const double f = 1 / (1 + std::exp(-1.0));
  double c = 0;
  const double s[2] = {0.75, -0.5};
  for (int t = 0; t < 2; ++t) {
    c = f * c + 0.5 * std::tanh(s[t]);
    for (int j = 0; j < 3; ++j) {
      EXPECT_NEAR(out.c.at({0, t, j}), c, 1e-6) << "t " << t;
      EXPECT_NEAR(out.h.at({0, t, j}), 0.5 * std::tanh(c), 1e-6) << "t " << t;
    }
  }
  // y = x V: the third block of each row is -0.5 (x0 + x1), the rest 0.
  for (int t = 0; t < 2; ++t)
    for (int j = 0; j < 9; ++j)
      EXPECT_FLOAT_EQ(out.y.at({0, t, j}), j >= 6 ? static_cast<float>(-0.5 * s[t]) : 0.0f)
          << "t " << t << " j " << j;
}
