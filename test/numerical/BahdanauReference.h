// A double-precision reference of models/bahdanau.attn (bidirectional GRU
// encoder, additive attention, GRU decoder) written from the formulas, for
// the CPU and CUDA builds of the model, and the test batch.
#pragma once

#include "Reference.h"

#include <algorithm>
#include <random>
#include <string>

namespace bahdanau_ref {


inline constexpr int64_t V = 23, H = 6;

inline double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

/// GRU step as in PyTorch: n = tanh(x Wn + bin + r * (h Un + bhn)).
inline ref::Vec gru(const ref::Vec &x, const ref::Vec &h, const ref::Mat &w,
             const ref::Mat &u, const ref::Vec &bi, const ref::Vec &bh) {
  ref::Vec xw = ref::add(ref::mul(x, w), bi), hu = ref::add(ref::mul(h, u), bh);
  ref::Vec next(H);
  for (int64_t k = 0; k < H; ++k) {
    double r = sigmoid(xw[k] + hu[k]);
    double z = sigmoid(xw[H + k] + hu[H + k]);
    double n = std::tanh(xw[2 * H + k] + r * hu[2 * H + k]);
    next[k] = (1 - z) * n + z * h[k];
  }
  return next;
}

inline ref::Vec tanhOf(ref::Vec v) {
  for (double &x : v)
    x = std::tanh(x);
  return v;
}

struct StepResult {
  ref::Vec state, logits, attention;
};

/// The model written out for one sentence.
template <class Model> struct Reference {
  Model &m;
  ref::Mat h; // encoder outputs [len, 2H]
  ref::Vec s0;

  Reference(Model &m, const std::vector<int32_t> &src) : m(m) {
    ref::Mat es = ref::matrix(m.Es());
    size_t len = src.size();
    ref::Mat f(len), b(len);
    ref::Vec state(H, 0.0);
    for (size_t t = 0; t < len; ++t)
      f[t] = state = gru(es[src[t]], state, ref::matrix(m.Wf()), ref::matrix(m.Uf()),
                         ref::vector(m.bif()), ref::vector(m.bhf()));
    state.assign(H, 0.0);
    for (size_t t = len; t-- > 0;)
      b[t] = state = gru(es[src[t]], state, ref::matrix(m.Wb()), ref::matrix(m.Ub()),
                         ref::vector(m.bib()), ref::vector(m.bhb()));
    for (size_t t = 0; t < len; ++t)
      h.push_back(ref::concat(f[t], b[t]));
    ref::Vec last = len ? f[len - 1] : ref::Vec(H, 0.0);
    ref::Vec first = len ? b[0] : ref::Vec(H, 0.0);
    s0 = tanhOf(ref::mul(ref::concat(last, first), ref::matrix(m.Wi())));
  }

  StepResult step(int32_t y, const ref::Vec &s) const {
    ref::Vec sw = ref::mul(s, ref::matrix(m.Wa()));
    ref::Vec e(h.size());
    for (size_t i = 0; i < h.size(); ++i)
      e[i] = ref::dot(ref::vector(m.va()),
                      tanhOf(ref::add(sw, ref::mul(h[i], ref::matrix(m.Ua())))));
    ref::Vec a = ref::maskedSoftmax(e, std::vector<bool>(e.size(), true));
    ref::Vec c(2 * H, 0.0);
    for (size_t i = 0; i < h.size(); ++i)
      for (int64_t d = 0; d < 2 * H; ++d)
        c[d] += a[i] * h[i][d];
    ref::Vec x = ref::concat(ref::matrix(m.Et())[y], c);
    ref::Vec s2 = gru(x, s, ref::matrix(m.Wd()), ref::matrix(m.Ud()),
                      ref::vector(m.bid()), ref::vector(m.bhd()));
    ref::Vec logits =
        ref::add(ref::mul(ref::concat(s2, c), ref::matrix(m.Wo())), ref::vector(m.bo()));
    return {s2, logits, a};
  }

  /// log P(tokens) with teacher forcing from BOS, and the attention rows.
  double score(const std::vector<int32_t> &tokens, int32_t bos, ref::Mat &attention) const {
    ref::Vec s = s0;
    int32_t y = bos;
    double total = 0;
    for (int32_t next : tokens) {
      StepResult r = step(y, s);
      double mx = *std::max_element(r.logits.begin(), r.logits.end()), z = 0;
      for (double l : r.logits)
        z += std::exp(l - mx);
      total += r.logits[next] - mx - std::log(z);
      attention.push_back(r.attention);
      s = r.state;
      y = next;
    }
    return total;
  }
};

template <class Model> void randomize(Model &m, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-0.6f, 0.6f);
  for (const std::string &name : m.params().names()) {
    attnrt::Tensor &t = m.params().get(name);
    for (int64_t i = 0; i < t.numel(); ++i)
      t.data<float>()[i] = dist(gen);
  }
}

struct Batch {
  std::vector<std::vector<int32_t>> sentences{
      {3, 7, 1, 22, 9, 4, 15}, {5, 8}, {12, 12, 6, 0, 19}, {}};
  int64_t S = 7;
  attnrt::Tensor src() const {
    attnrt::Tensor t(attnrt::DType::I32, {static_cast<int64_t>(sentences.size()), S});
    for (size_t b = 0; b < sentences.size(); ++b)
      for (size_t i = 0; i < sentences[b].size(); ++i)
        t.at<int32_t>({static_cast<int64_t>(b), static_cast<int64_t>(i)}) = sentences[b][i];
    return t;
  }
  std::vector<int32_t> lengths() const {
    std::vector<int32_t> l;
    for (const auto &s : sentences)
      l.push_back(static_cast<int32_t>(s.size()));
    return l;
  }
};

} // namespace bahdanau_ref
