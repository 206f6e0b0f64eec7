// The Elman RNN of models/elman.mlir (forward and reversed) compiled by attnc,
// against a plain loop: h_t = tanh(x_t U + h_{t-1} W + b), a padded step
// keeps the row's state, outputs are zero at padded positions. Also: a short
// sequence in a padded batch gives the same states as alone.
#include "Reference.h"

#include "elman.h"

#include <gtest/gtest.h>

#include <random>

namespace {

attnrt::Tensor randomTensor(std::vector<int64_t> shape, unsigned seed) {
  attnrt::Tensor t(attnrt::DType::F32, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = dist(gen);
  return t;
}

/// States of one row, forward or reversed, as the reference loop computes.
ref::Mat elmanRow(const ref::Mat &xs, const ref::Vec &h0, const ref::Mat &u,
                  const ref::Mat &w, const ref::Vec &b, size_t length,
                  bool reverse) {
  ref::Mat states(xs.size());
  ref::Vec h = h0;
  for (size_t i = 0; i < xs.size(); ++i) {
    size_t t = reverse ? xs.size() - 1 - i : i;
    if (t < length) {
      h = ref::add(ref::add(ref::mul(xs[t], u), ref::mul(h, w)), b);
      for (double &v : h)
        v = std::tanh(v);
    }
    states[t] = h;
  }
  return states;
}

TEST(Recurrence, ElmanForwardAndReversedMatchReference) {
  elman::Model model(3);
  std::vector<int32_t> lengths{9, 1, 5, 0};
  const int64_t B = 4, S = 9;
  attnrt::Tensor x = randomTensor({B, S, 6}, 1), h0 = randomTensor({B, 8}, 2);
  auto out = model.forward(x, h0, lengths);
  ref::Mat u = ref::matrix(model.U()), w = ref::matrix(model.W());
  ref::Vec b = ref::vector(model.b());
  for (int64_t r = 0; r < B; ++r) {
    ref::Vec h0r(8);
    for (int d = 0; d < 8; ++d)
      h0r[d] = h0.at({r, d});
    for (bool reverse : {false, true}) {
      ref::Mat want = elmanRow(ref::rows(x, r, S), h0r, u, w, b, lengths[r],
                               reverse);
      const attnrt::Tensor &got = reverse ? out.hr : out.h;
      for (int64_t t = 0; t < S; ++t)
        for (int d = 0; d < 8; ++d)
          ASSERT_NEAR(got.at({r, t, d}), t < lengths[r] ? want[t][d] : 0.0,
                      1e-5)
              << (reverse ? "reversed" : "forward") << " at [" << r << ", "
              << t << ", " << d << "]";
    }
  }
}

TEST(Recurrence, PaddedRowEqualsTheSequenceAlone) {
  elman::Model model(3);
  attnrt::Tensor x = randomTensor({2, 7, 6}, 4), h0 = randomTensor({2, 8}, 5);
  auto batched = model.forward(x, h0, {7, 3});
  attnrt::Tensor alone(attnrt::DType::F32, {1, 3, 6}), h0alone(attnrt::DType::F32, {1, 8});
  for (int t = 0; t < 3; ++t)
    for (int d = 0; d < 6; ++d)
      alone.at({0, t, d}) = x.at({1, t, d});
  for (int d = 0; d < 8; ++d)
    h0alone.at({0, d}) = h0.at({1, d});
  auto single = model.forward(alone, h0alone, {3});
  for (int t = 0; t < 3; ++t)
    for (int d = 0; d < 8; ++d) {
      EXPECT_FLOAT_EQ(batched.h.at({1, t, d}), single.h.at({0, t, d}));
      EXPECT_FLOAT_EQ(batched.hr.at({1, t, d}), single.hr.at({0, t, d}));
    }
}

} // namespace

// ---- The cells of stdlib/rnn.attn (models/cells.attn) -----------------------

#include "cells.h"

namespace {

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

/// Columns [k*n, (k+1)*n) of a vector.
ref::Vec part(const ref::Vec &v, int k, int n) {
  return ref::Vec(v.begin() + k * n, v.begin() + (k + 1) * n);
}

/// Columns [k*n, (k+1)*n) of a matrix.
ref::Mat columns(const ref::Mat &m, int k, int n) {
  ref::Mat out;
  for (const ref::Vec &row : m)
    out.push_back(part(row, k, n));
  return out;
}

struct State {
  ref::Vec h, c;
};

/// Runs `step` over one row (forward or reversed); padded steps keep the state.
template <class Step>
std::vector<State> run(const ref::Mat &xs, size_t length, bool reverse, int H,
                       Step step) {
  std::vector<State> out(xs.size());
  State s{ref::Vec(H, 0.0), ref::Vec(H, 0.0)};
  for (size_t i = 0; i < xs.size(); ++i) {
    size_t t = reverse ? xs.size() - 1 - i : i;
    if (t < length)
      s = step(xs[t], s);
    out[t] = s;
  }
  return out;
}

TEST(Recurrence, CellsMatchReference) {
  cells::Model m(21);
  const int D = 6, H = 8;
  std::vector<int32_t> lengths{11, 4, 1, 7};
  const int64_t B = 4, S = 11;
  attnrt::Tensor x = randomTensor({B, S, D}, 9);
  auto out = m.forward(x, lengths);

  ref::Mat wx = ref::matrix(m.Wx()), wh = ref::matrix(m.Wh()),
           w4 = ref::matrix(m.W4()), u4 = ref::matrix(m.U4()),
           w3 = ref::matrix(m.W3()), u3 = ref::matrix(m.U3()),
           v3 = ref::matrix(m.V3()), r3 = ref::matrix(m.R3());
  ref::Vec b = ref::vector(m.b()), b4 = ref::vector(m.b4()),
           pi = ref::vector(m.pi()), pf = ref::vector(m.pf()),
           po = ref::vector(m.po()), bi3 = ref::vector(m.bi3()),
           bh3 = ref::vector(m.bh3());

  auto elman = [&](const ref::Vec &xt, State s) {
    ref::Vec h = ref::add(ref::add(ref::mul(xt, wx), ref::mul(s.h, wh)), b);
    for (double &v : h)
      v = std::tanh(v);
    return State{h, s.c};
  };
  auto lstm = [&](bool peephole) {
    return [&, peephole](const ref::Vec &xt, State s) {
      ref::Vec z = ref::add(ref::add(ref::mul(xt, w4), ref::mul(s.h, u4)), b4);
      State n{ref::Vec(H), ref::Vec(H)};
      for (int k = 0; k < H; ++k) {
        double i = sigmoid(z[k] + (peephole ? pi[k] * s.c[k] : 0));
        double f = sigmoid(z[H + k] + (peephole ? pf[k] * s.c[k] : 0));
        double g = std::tanh(z[2 * H + k]);
        n.c[k] = f * s.c[k] + i * g;
        double o = sigmoid(z[3 * H + k] + (peephole ? po[k] * n.c[k] : 0));
        n.h[k] = o * std::tanh(n.c[k]);
      }
      return n;
    };
  };
  // PyTorch places the reset gate after the recurrent product, Cho before.
  auto gru = [&](const ref::Mat &w, const ref::Mat &u, bool cho) {
    return [&, cho](const ref::Vec &xt, State s) {
      ref::Vec xw = ref::add(ref::mul(xt, w), bi3);
      ref::Vec hu = ref::add(ref::mul(s.h, u), bh3);
      ref::Vec r(H), z(H), h(H);
      for (int k = 0; k < H; ++k) {
        r[k] = sigmoid(xw[k] + hu[k]);
        z[k] = sigmoid(xw[H + k] + hu[H + k]);
      }
      ref::Vec rh(H);
      for (int k = 0; k < H; ++k)
        rh[k] = r[k] * s.h[k];
      ref::Vec choN = ref::add(ref::mul(rh, columns(u, 2, H)), part(bh3, 2, H));
      for (int k = 0; k < H; ++k) {
        double n = std::tanh(xw[2 * H + k] +
                             (cho ? choN[k] : r[k] * hu[2 * H + k]));
        h[k] = (1 - z[k]) * n + z[k] * s.h[k];
      }
      return State{h, s.c};
    };
  };

  auto expect = [&](const attnrt::Tensor &got, int64_t row,
                    const std::vector<State> &want, bool cell,
                    const char *what) {
    for (int64_t t = 0; t < S; ++t)
      for (int k = 0; k < H; ++k) {
        double w = t < lengths[row] ? (cell ? want[t].c[k] : want[t].h[k]) : 0;
        ASSERT_NEAR(got.at({row, t, k}), w, 1e-5)
            << what << " at [" << row << ", " << t << ", " << k << "]";
      }
  };
  for (int64_t r = 0; r < B; ++r) {
    ref::Mat xs = ref::rows(x, r, S);
    size_t len = lengths[r];
    expect(out.elman_h, r, run(xs, len, false, H, elman), false, "elman");
    auto l = run(xs, len, false, H, lstm(false));
    expect(out.lstm_h, r, l, false, "lstm h");
    expect(out.lstm_c, r, l, true, "lstm c");
    auto p = run(xs, len, false, H, lstm(true));
    expect(out.peep_h, r, p, false, "peephole h");
    expect(out.peep_c, r, p, true, "peephole c");
    expect(out.gru_h, r, run(xs, len, false, H, gru(w3, u3, false)), false,
           "gru");
    expect(out.cho_h, r, run(xs, len, false, H, gru(w3, u3, true)), false,
           "gru cho");
    auto back = run(xs, len, true, H, lstm(false));
    expect(out.back_h, r, back, false, "reversed lstm h");
    expect(out.back_c, r, back, true, "reversed lstm c");
    // Bidirectional layer (concatenated), then a second GRU layer.
    auto fwd = run(xs, len, false, H, gru(w3, u3, false));
    auto bwd = run(xs, len, true, H, gru(w3, u3, false));
    ref::Mat both;
    for (int64_t t = 0; t < S; ++t)
      both.push_back(ref::concat(fwd[t].h, bwd[t].h));
    auto stacked = run(both, len, false, H, gru(v3, r3, false));
    expect(out.stacked, r, stacked, false, "stacked bidirectional gru");
    // A residual third layer, and the sum of both directions.
    ref::Mat second;
    for (int64_t t = 0; t < S; ++t)
      second.push_back(stacked[t].h);
    auto third = run(second, len, false, H, gru(r3, u3, false));
    std::vector<State> residual(S), summed(S);
    for (int64_t t = 0; t < S; ++t) {
      residual[t].h = ref::add(third[t].h, stacked[t].h);
      summed[t].h = ref::add(fwd[t].h, bwd[t].h);
    }
    expect(out.residual, r, residual, false, "residual third layer");
    expect(out.summed, r, summed, false, "directions summed");
  }
}

} // namespace
