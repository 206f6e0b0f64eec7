// PyTorch interop: torch.nn.LSTM / torch.nn.GRU weights, imported with attnrt::importTorchRNN into
// the models of torch/lstm.attn and torch/gru.attn, give torch's outputs on a padded batch.
// The fixtures (torch/*.safetensors) were written by torch/make_fixtures.py, which needs torch;
// this test only reads them. x holds noise at padded positions, which must not matter.
//
// Checked, at most 1e-5 apart: every position of the per-step outputs y (torch's
// pad_packed_sequence output is zero at padded positions, as attnc's outputs are), and the final
// states h_n (and c_n), both as the models' last(h) / first(h) outputs and picked from the
// per-step states: a forward direction ends at the row's last valid step, a reverse one at t = 0.
#include "torch_gru.h"
#include "torch_lstm.h"

#include "attnrt/Safetensors.h"
#include "attnrt/TorchImport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <string>

namespace {

const std::string kDir = TORCH_FIXTURES_DIR;
constexpr double kTolerance = 1e-5;

struct Fixture {
  std::map<std::string, attnrt::Tensor> io;
  std::vector<int32_t> lengths;
};

Fixture loadFixture(const std::string &name) {
  Fixture f;
  f.io = attnrt::readSafetensors(kDir + "/" + name + "_io.safetensors");
  const attnrt::Tensor &lengths = f.io.at("lengths");
  for (int64_t r = 0; r < lengths.numel(); ++r)
    f.lengths.push_back(lengths.at<int32_t>({r}));
  return f;
}

/// Max |got - want| over a whole [B, S, F] output; expects every element within the tolerance.
double compareSteps(const attnrt::Tensor &got, const attnrt::Tensor &want, const char *what) {
  EXPECT_EQ(got.shape(), want.shape()) << what;
  if (got.shape() != want.shape())
    return INFINITY;
  double worst = 0;
  for (int64_t b = 0; b < got.dim(0); ++b)
    for (int64_t t = 0; t < got.dim(1); ++t)
      for (int64_t k = 0; k < got.dim(2); ++k) {
        double d = std::fabs(got.at({b, t, k}) - want.at({b, t, k}));
        worst = std::max(worst, d);
        EXPECT_LE(d, kTolerance) << what << " at [" << b << ", " << t << ", " << k
                                 << "]: attnc " << got.at({b, t, k}) << ", torch "
                                 << want.at({b, t, k});
      }
  return worst;
}

/// Max |states[b, t_b] - final[layer, b]| where t_b is the row's last valid step (forward) or 0
/// (reverse): the final state of one layer and direction of torch's h_n / c_n.
double compareFinal(const attnrt::Tensor &states, const attnrt::Tensor &final, int64_t layer,
                    const std::vector<int32_t> &lengths, bool reverse, const char *what) {
  double worst = 0;
  for (int64_t b = 0; b < states.dim(0); ++b) {
    int64_t t = reverse ? 0 : lengths[b] - 1;
    for (int64_t k = 0; k < states.dim(2); ++k) {
      double d = std::fabs(states.at({b, t, k}) - final.at({layer, b, k}));
      worst = std::max(worst, d);
      EXPECT_LE(d, kTolerance) << what << " of row " << b << " at " << k;
    }
  }
  return worst;
}

/// Max |got[b] - final[layer, b]|: a [B, H] final-state output against torch's h_n / c_n.
double compareFinal(const attnrt::Tensor &got, const attnrt::Tensor &final, int64_t layer,
                    const char *what) {
  EXPECT_EQ(got.shape(), (std::vector<int64_t>{final.dim(1), final.dim(2)})) << what;
  double worst = 0;
  for (int64_t b = 0; b < final.dim(1); ++b)
    for (int64_t k = 0; k < final.dim(2); ++k) {
      double d = std::fabs(got.at({b, k}) - final.at({layer, b, k}));
      worst = std::max(worst, d);
      EXPECT_LE(d, kTolerance) << what << " of row " << b << " at " << k;
    }
  return worst;
}

} // namespace

TEST(TorchInterop, BidirectionalLstmMatchesTorch) {
  Fixture f = loadFixture("lstm");
  torch_lstm::Model model(/*seed=*/1);
  attnrt::importTorchRNN(model.params(), kDir + "/lstm_weights.safetensors",
                         {attnrt::TorchRNNMapping::lstm("encoder.rnn.", "l0", "Wf", "Uf", "bf"),
                          attnrt::TorchRNNMapping::lstm("encoder.rnn.", "l0_reverse", "Wb", "Ub",
                                                        "bb")});
  auto out = model.forward(f.io.at("x"), f.lengths);

  double y = compareSteps(out.y, f.io.at("y"), "y");
  const attnrt::Tensor &hn = f.io.at("h_n"), &cn = f.io.at("c_n");
  double states = std::max({compareFinal(out.hf, hn, 0, f.lengths, false, "h_n forward"),
                            compareFinal(out.hb, hn, 1, f.lengths, true, "h_n reverse"),
                            compareFinal(out.cf, cn, 0, f.lengths, false, "c_n forward"),
                            compareFinal(out.cb, cn, 1, f.lengths, true, "c_n reverse"),
                            compareFinal(out.hn_f, hn, 0, "last(hf)"),
                            compareFinal(out.hn_b, hn, 1, "first(hb)"),
                            compareFinal(out.cn_f, cn, 0, "last(cf)"),
                            compareFinal(out.cn_b, cn, 1, "first(cb)")});
  std::cout << "LSTM: max |attnc - torch| y " << y << ", h_n/c_n " << states << "\n";
}

TEST(TorchInterop, TwoLayerBidirectionalGruMatchesTorch) {
  Fixture f = loadFixture("gru");
  torch_gru::Model model(/*seed=*/1);
  std::vector<attnrt::TorchRNNMapping> mappings;
  for (std::string l : {"0", "1"}) {
    mappings.push_back(attnrt::TorchRNNMapping::gru("encoder.rnn.", "l" + l, "Wf" + l, "Uf" + l,
                                                    "bif" + l, "bhf" + l));
    mappings.push_back(attnrt::TorchRNNMapping::gru("encoder.rnn.", "l" + l + "_reverse",
                                                    "Wb" + l, "Ub" + l, "bib" + l, "bhb" + l));
  }
  attnrt::importTorchRNN(model.params(), kDir + "/gru_weights.safetensors", mappings);
  auto out = model.forward(f.io.at("x"), f.lengths);

  double y = compareSteps(out.y, f.io.at("y"), "y");
  const attnrt::Tensor &hn = f.io.at("h_n"); // [l0 forward, l0 reverse, l1 forward, l1 reverse]
  double states = std::max({compareFinal(out.f0, hn, 0, f.lengths, false, "h_n layer 0 forward"),
                            compareFinal(out.b0, hn, 1, f.lengths, true, "h_n layer 0 reverse"),
                            compareFinal(out.f1, hn, 2, f.lengths, false, "h_n layer 1 forward"),
                            compareFinal(out.b1, hn, 3, f.lengths, true, "h_n layer 1 reverse"),
                            compareFinal(out.hn_f0, hn, 0, "last(f0)"),
                            compareFinal(out.hn_b0, hn, 1, "first(b0)"),
                            compareFinal(out.hn_f1, hn, 2, "last(f1)"),
                            compareFinal(out.hn_b1, hn, 3, "first(b1)")});
  std::cout << "GRU: max |attnc - torch| y " << y << ", h_n " << states << "\n";
}

TEST(TorchInterop, FixturePaddingIsNoiseInAndZeroOut) {
  // What the comparisons above rely on: x is not zero at padded positions (so the match shows
  // that padding is ignored) and torch's y is zero there (as attnc's outputs are).
  for (const char *name : {"lstm", "gru"}) {
    Fixture f = loadFixture(name);
    const attnrt::Tensor &x = f.io.at("x"), &y = f.io.at("y");
    double noise = 0;
    for (int64_t b = 0; b < x.dim(0); ++b)
      for (int64_t t = f.lengths[b]; t < x.dim(1); ++t) {
        for (int64_t k = 0; k < x.dim(2); ++k)
          noise = std::max(noise, std::fabs(double(x.at({b, t, k}))));
        for (int64_t k = 0; k < y.dim(2); ++k)
          ASSERT_EQ(y.at({b, t, k}), 0.f) << name << ": torch's y at [" << b << ", " << t << "]";
      }
    EXPECT_GT(noise, 0.1) << name;
    EXPECT_LT(*std::min_element(f.lengths.begin(), f.lengths.end()), x.dim(1)) << name;
  }
}
