// Plain double-precision reference implementations of the models under
// test/numerical/models, written from the formulas with naive loops and no
// code shared with the compiler. Vectors are rows of a per-example sequence.
#pragma once

#include "attnrt/Tensor.h"

#include <cmath>
#include <vector>

namespace ref {

using Vec = std::vector<double>;
using Mat = std::vector<Vec>; // rows

/// Row s of example b of a [B, S, D] tensor.
inline Vec row(const attnrt::Tensor &t, int64_t b, int64_t s) {
  Vec v(t.dim(2));
  for (int64_t d = 0; d < t.dim(2); ++d)
    v[d] = t.at({b, s, d});
  return v;
}

inline Mat rows(const attnrt::Tensor &t, int64_t b, int64_t count) {
  Mat m;
  for (int64_t s = 0; s < count; ++s)
    m.push_back(row(t, b, s));
  return m;
}

/// A 2-D parameter [R, C] as a matrix.
inline Mat matrix(const attnrt::Tensor &t) {
  Mat m(t.dim(0), Vec(t.dim(1)));
  for (int64_t i = 0; i < t.dim(0); ++i)
    for (int64_t j = 0; j < t.dim(1); ++j)
      m[i][j] = t.at({i, j});
  return m;
}

inline Vec vector(const attnrt::Tensor &t) {
  Vec v(t.dim(0));
  for (int64_t i = 0; i < t.dim(0); ++i)
    v[i] = t.at({i});
  return v;
}

/// Head h of a [D, H, K] projection as a [D, K] matrix.
inline Mat head(const attnrt::Tensor &w, int64_t h) {
  Mat m(w.dim(0), Vec(w.dim(2)));
  for (int64_t d = 0; d < w.dim(0); ++d)
    for (int64_t k = 0; k < w.dim(2); ++k)
      m[d][k] = w.at({d, h, k});
  return m;
}

inline double dot(const Vec &a, const Vec &b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i)
    s += a[i] * b[i];
  return s;
}

/// x W for x : [R], W : [R, C].
inline Vec mul(const Vec &x, const Mat &w) {
  Vec y(w[0].size(), 0.0);
  for (size_t r = 0; r < x.size(); ++r)
    for (size_t c = 0; c < y.size(); ++c)
      y[c] += x[r] * w[r][c];
  return y;
}

inline Vec add(Vec a, const Vec &b) {
  for (size_t i = 0; i < a.size(); ++i)
    a[i] += b[i];
  return a;
}

inline Vec concat(Vec a, const Vec &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// softmax over the kept positions; 0 at the others (all 0 if none is kept).
inline Vec maskedSoftmax(const Vec &e, const std::vector<bool> &keep) {
  double m = -INFINITY;
  for (size_t j = 0; j < e.size(); ++j)
    if (keep[j])
      m = std::max(m, e[j]);
  Vec p(e.size(), 0.0);
  double sum = 0;
  for (size_t j = 0; j < e.size(); ++j)
    if (keep[j])
      sum += p[j] = std::exp(e[j] - m);
  for (double &x : p)
    x = sum > 0 ? x / sum : 0;
  return p;
}

/// Scaled dot-product attention of queries q over keys/values k, v, keys past
/// `length` masked, and (if causal) keys after the query masked.
inline Mat attention(const Mat &q, const Mat &k, const Mat &v, size_t length,
                     bool causal) {
  Mat out;
  double scale = 1.0 / std::sqrt(static_cast<double>(q[0].size()));
  for (size_t i = 0; i < q.size(); ++i) {
    Vec e(k.size());
    std::vector<bool> keep(k.size());
    for (size_t j = 0; j < k.size(); ++j) {
      e[j] = dot(q[i], k[j]) * scale;
      keep[j] = j < length && (!causal || j <= i);
    }
    Vec p = maskedSoftmax(e, keep);
    Vec c(v[0].size(), 0.0);
    for (size_t j = 0; j < k.size(); ++j)
      for (size_t d = 0; d < c.size(); ++d)
        c[d] += p[j] * v[j][d];
    out.push_back(c);
  }
  return out;
}

inline Mat project(const Mat &x, const Mat &w) {
  Mat y;
  for (const Vec &r : x)
    y.push_back(mul(r, w));
  return y;
}

/// Multi-head self-attention; `average` averages the heads (then Wo : [K, D]),
/// otherwise concatenates them (Wo : [H*K, D]).
inline Mat multihead(const Mat &x, const attnrt::Tensor &wq,
                     const attnrt::Tensor &wk, const attnrt::Tensor &wv,
                     const Mat &wo, size_t length, bool causal, bool average) {
  int64_t heads = wq.dim(1);
  Mat combined(x.size());
  for (int64_t h = 0; h < heads; ++h) {
    Mat c = attention(project(x, head(wq, h)), project(x, head(wk, h)),
                      project(x, head(wv, h)), length, causal);
    for (size_t i = 0; i < x.size(); ++i) {
      if (average) {
        if (combined[i].empty())
          combined[i].assign(c[i].size(), 0.0);
        for (size_t d = 0; d < c[i].size(); ++d)
          combined[i][d] += c[i][d] / heads;
      } else {
        combined[i] = concat(combined[i], c[i]);
      }
    }
  }
  return project(combined, wo);
}

inline Vec layerNorm(const Vec &x, const Vec &g, const Vec &b) {
  double mean = 0, var = 0;
  for (double v : x)
    mean += v / x.size();
  for (double v : x)
    var += (v - mean) * (v - mean) / x.size();
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = (x[i] - mean) / std::sqrt(var + 1e-5) * g[i] + b[i];
  return y;
}

inline Vec feedForward(const Vec &x, const Mat &w1, const Vec &c1,
                       const Mat &w2, const Vec &c2) {
  Vec h = add(mul(x, w1), c1);
  for (double &v : h)
    v = std::max(v, 0.0);
  return add(mul(h, w2), c2);
}

} // namespace ref
