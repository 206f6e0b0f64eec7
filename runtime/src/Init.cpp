// Compiled with -ffp-contract=off (see runtime/CMakeLists.txt) so that no multiply-add is fused
// differently on different targets: every operation below is an IEEE-754 double operation.
#include "attnrt/Init.h"

#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>

namespace attnrt {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t fnv1a64(const std::string &s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// Natural log from frexp, +, *, / only, so it gives the same bits everywhere (std::log is not
/// correctly rounded and differs between libms). Accurate to a few ulp; x must be finite, > 0.
double portableLog(double x) {
  int e = 0;
  double m = std::frexp(x, &e); // x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2;
    --e;
  } // m in [sqrt(1/2), sqrt(2)): z below is at most 0.1716, z^2 at most 0.0295
  double z = (m - 1) / (m + 1);
  double z2 = z * z;
  // log(m) = 2 atanh(z) = 2 (z + z^3/3 + z^5/5 + ...); 14 terms reach z^27 / 27 < 1e-22.
  double series = 1.0 / 27;
  for (int k = 25; k >= 1; k -= 2)
    series = 1.0 / k + z2 * series;
  const double ln2 = 0.69314718055994530942;
  return 2 * z * series + e * ln2;
}

/// The per-tensor random source: uniform doubles and standard normals.
class Stream {
public:
  explicit Stream(uint64_t seed) : engine_(seed) {}

  /// Uniform on [0, 1), 53 random bits.
  double uniform01() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }

  /// Standard normal (Marsaglia's polar method; the second value of each pair is kept).
  double normal() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2 * uniform01() - 1;
      v = 2 * uniform01() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s == 0);
    double f = std::sqrt(-2 * portableLog(s) / s); // sqrt is correctly rounded by IEEE 754
    spare_ = v * f;
    hasSpare_ = true;
    return u * f;
  }

private:
  std::mt19937_64 engine_;
  double spare_ = 0;
  bool hasSpare_ = false;
};

double gainOf(const Init &init) { return init.a == 0 ? 1.0 : init.a; }

const char *kindName(Init::Kind kind) {
  switch (kind) {
  case Init::Zeros:
    return "Zeros";
  case Init::Ones:
    return "Ones";
  case Init::Constant:
    return "Constant";
  case Init::Uniform:
    return "Uniform";
  case Init::Normal:
    return "Normal";
  case Init::XavierUniform:
    return "XavierUniform";
  case Init::XavierNormal:
    return "XavierNormal";
  case Init::Orthogonal:
    return "Orthogonal";
  case Init::GateConstant:
    return "GateConstant";
  }
  return "?";
}

/// Q (m x n, m >= n, row-major) with orthonormal columns from a Gaussian m x n matrix: modified
/// Gram-Schmidt run twice per column ("twice is enough"), which gives R a positive diagonal.
std::vector<double> orthonormalColumns(int64_t m, int64_t n, Stream &stream) {
  std::vector<double> q(static_cast<std::size_t>(m * n));
  for (double &x : q)
    x = stream.normal();
  auto at = [&](int64_t r, int64_t c) -> double & { return q[static_cast<std::size_t>(r * n + c)]; };
  for (int64_t j = 0; j < n; ++j) {
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t i = 0; i < j; ++i) {
        double dot = 0;
        for (int64_t r = 0; r < m; ++r)
          dot += at(r, i) * at(r, j);
        for (int64_t r = 0; r < m; ++r)
          at(r, j) -= dot * at(r, i);
      }
    }
    double norm2 = 0;
    for (int64_t r = 0; r < m; ++r)
      norm2 += at(r, j) * at(r, j);
    double inv = 1 / std::sqrt(norm2);
    for (int64_t r = 0; r < m; ++r)
      at(r, j) *= inv;
  }
  return q;
}

void fillOrthogonal(Tensor &t, double gain, Stream &stream) {
  Fans f = fans(t.shape());
  int64_t rows = f.in, cols = f.out;
  int64_t m = std::max(rows, cols), n = std::min(rows, cols);
  std::vector<double> q = orthonormalColumns(m, n, stream);
  float *w = t.data<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double v = rows >= cols ? q[static_cast<std::size_t>(r * n + c)]
                              : q[static_cast<std::size_t>(c * n + r)];
      w[r * cols + c] = static_cast<float>(gain * v);
    }
}

} // namespace

std::string toString(const Init &init) {
  std::ostringstream os;
  os << kindName(init.kind);
  switch (init.kind) {
  case Init::Zeros:
  case Init::Ones:
    break;
  case Init::Constant:
    os << '(' << init.a << ')';
    break;
  case Init::Uniform:
  case Init::Normal:
    os << "(a=" << init.a << ", b=" << init.b << ')';
    break;
  case Init::XavierUniform:
  case Init::XavierNormal:
  case Init::Orthogonal:
    os << "(gain=" << gainOf(init) << ')';
    break;
  case Init::GateConstant:
    os << "(gates=" << init.gates << ", gate=" << init.gate << ", value=" << init.a << ')';
    break;
  }
  return os.str();
}

Fans fans(const std::vector<int64_t> &shape) {
  Fans f;
  if (shape.empty())
    return f;
  f.out = shape.back();
  f.in = shapeNumel(std::vector<int64_t>(shape.begin(), shape.end() - 1));
  return f;
}

void checkInit(const Init &init, DType dtype, const std::string &what) {
  auto fail = [&](const std::string &why) {
    throw std::invalid_argument(what + ": initialiser " + toString(init) + " " + why);
  };
  if (!std::isfinite(init.a) || !std::isfinite(init.b))
    fail("has a non-finite argument");
  switch (init.kind) {
  case Init::Zeros:
  case Init::Ones:
    return;
  case Init::Constant:
    if (dtype == DType::I32 &&
        !(init.a == std::floor(init.a) && init.a >= std::numeric_limits<int32_t>::min() &&
          init.a <= std::numeric_limits<int32_t>::max()))
      fail("needs an int32 value for an I32 tensor");
    return;
  case Init::Uniform:
    if (!(init.a < init.b))
      fail("needs a < b (uniform on [a, b))");
    break;
  case Init::Normal:
    if (init.b < 0)
      fail("needs a standard deviation b >= 0");
    break;
  case Init::XavierUniform:
  case Init::XavierNormal:
  case Init::Orthogonal:
    break;
  case Init::GateConstant:
    if (init.gates < 1)
      fail("needs gates >= 1");
    if (init.gate < 0 || init.gate >= init.gates)
      fail("needs 0 <= gate < gates");
    break;
  default:
    fail("has an unknown kind " + std::to_string(static_cast<int>(init.kind)));
  }
  if (dtype != DType::F32)
    fail(std::string("needs an F32 tensor, not ") + dtypeName(dtype));
}

void checkInit(const Init &init, DType dtype, const std::vector<int64_t> &shape,
               const std::string &what) {
  checkInit(init, dtype, what);
  if (init.kind != Init::GateConstant)
    return;
  auto fail = [&](const std::string &why) {
    throw std::invalid_argument(what + ": initialiser " + toString(init) + " " + why +
                                " (shape " + shapeString(shape) + ")");
  };
  if (shape.empty())
    fail("splits the last axis; a scalar has none");
  if (shape.back() % init.gates != 0)
    fail("needs the last extent " + std::to_string(shape.back()) + " to be a multiple of " +
         std::to_string(init.gates) + " gates");
}

uint64_t streamSeed(uint64_t seed, const std::string &streamName) {
  return splitmix64(splitmix64(seed) ^ fnv1a64(streamName));
}

void initialize(Tensor &tensor, const Init &init, uint64_t seed, const std::string &streamName) {
  checkInit(init, tensor.dtype(), tensor.shape(), "'" + streamName + "'");
  switch (init.kind) {
  case Init::Zeros:
    tensor.fill(0);
    return;
  case Init::Ones:
    tensor.fill(1);
    return;
  case Init::Constant:
    tensor.fill(init.a);
    return;
  case Init::GateConstant: {
    // Element i lies at position i % last on the last axis, in slice (i % last) / width.
    const int64_t last = tensor.shape().back(), width = last / init.gates;
    const float value = static_cast<float>(init.a);
    float *p = tensor.data<float>();
    for (int64_t i = 0, n = tensor.numel(); i < n; ++i)
      p[i] = (i % last) / width == init.gate ? value : 0.0f;
    return;
  }
  default:
    break;
  }
  if (tensor.numel() == 0)
    return;
  Stream stream(streamSeed(seed, streamName));
  float *p = tensor.data<float>();
  const int64_t n = tensor.numel();
  Fans f = fans(tensor.shape());
  double fanSum = static_cast<double>(f.in) + static_cast<double>(f.out);
  switch (init.kind) {
  case Init::Uniform:
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<float>(init.a + (init.b - init.a) * stream.uniform01());
    return;
  case Init::Normal:
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<float>(init.a + init.b * stream.normal());
    return;
  case Init::XavierUniform: {
    double bound = gainOf(init) * std::sqrt(6 / fanSum);
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<float>(bound * (2 * stream.uniform01() - 1));
    return;
  }
  case Init::XavierNormal: {
    double stddev = gainOf(init) * std::sqrt(2 / fanSum);
    for (int64_t i = 0; i < n; ++i)
      p[i] = static_cast<float>(stddev * stream.normal());
    return;
  }
  case Init::Orthogonal:
    fillOrthogonal(tensor, gainOf(init), stream);
    return;
  default:
    return;
  }
}

} // namespace attnrt
