// Parameter initialisers.
//
// Layout convention: a parameter of shape [in..., out] maps inputs to outputs (y = x W for
// W : [in, out]). fan_in is the product of all extents but the last, fan_out the last extent
// (a vector [n] has fan_in 1, fan_out n; a scalar has 1 and 1). Note that PyTorch's nn.Linear
// stores [out, in]: transpose when moving such weights.
//
// Meaning of a and b per kind (values are drawn in double and rounded to float):
//   Zeros, Ones        -
//   Constant           every element = a
//   Uniform            uniform on [a, b) (torch.nn.init.uniform_(a, b)); needs a < b
//   Normal             normal with mean a, standard deviation b (b >= 0)
//   XavierUniform      uniform on [-g*sqrt(6/(fan_in+fan_out)), +same], gain g = a (0 means 1)
//   XavierNormal       normal(0, g*sqrt(2/(fan_in+fan_out))), gain g = a (0 means 1)
//   Orthogonal         the shape flattened to a fan_in x fan_out matrix W with orthonormal
//                      columns (W^T W = I) if fan_in >= fan_out, else orthonormal rows
//                      (W W^T = I), times gain g = a (0 means 1); Haar-distributed, as
//                      torch.nn.init.orthogonal_ (QR of a Gaussian matrix, positive diag(R)).
//   GateConstant       the last axis split into `gates` equal slices (gate blocks, as the stdlib's
//                      split(z, gates, k)); slice `gate` (0-based) = a, the others 0. Needs
//                      gates >= 1, 0 <= gate < gates, at least one axis, and gates dividing the
//                      last extent. The LSTM forget-gate bias 1 (gates i, f, g, o) is
//                      gateConstant(4, 1, 1.0).
// I32 tensors accept Zeros, Ones and integral Constant values only.
//
// Determinism: every tensor draws from its own stream, derived from (seed, stream name) with
// SplitMix64 + FNV-1a and fed to std::mt19937_64 (whose output the C++ standard fixes). The
// uniform and normal transforms are written here (std:: distributions differ between standard
// libraries), normals by Marsaglia's polar method with a log built from IEEE-exact operations, so
// values are bit-identical across platforms and compilers. Adding a parameter never changes the
// values of the others.
#ifndef ATTNRT_INIT_H
#define ATTNRT_INIT_H

#include "attnrt/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attnrt {

struct Init {
  enum Kind {
    Zeros,
    Ones,
    Constant,
    Uniform,
    Normal,
    XavierUniform,
    XavierNormal,
    Orthogonal,
    GateConstant
  };
  Kind kind = Zeros;
  double a = 0; // see the table above
  double b = 0;
  int64_t gates = 0; // GateConstant only: slices of the last axis, and the one set to a
  int64_t gate = 0;

  static Init zeros() { return {Zeros, 0, 0}; }
  static Init ones() { return {Ones, 0, 0}; }
  static Init constant(double value) { return {Constant, value, 0}; }
  static Init uniform(double low, double high) { return {Uniform, low, high}; }
  static Init normal(double mean, double stddev) { return {Normal, mean, stddev}; }
  static Init xavierUniform(double gain = 1) { return {XavierUniform, gain, 0}; }
  static Init xavierNormal(double gain = 1) { return {XavierNormal, gain, 0}; }
  static Init orthogonal(double gain = 1) { return {Orthogonal, gain, 0}; }
  static Init gateConstant(int64_t gates, int64_t gate, double value) {
    return {GateConstant, value, 0, gates, gate};
  }
};

/// "Uniform(a=-0.1, b=0.1)", "XavierUniform(gain=1)", ...
std::string toString(const Init &init);

struct Fans {
  int64_t in = 1;
  int64_t out = 1;
};
/// fan_in / fan_out of a parameter shape (see the convention above).
Fans fans(const std::vector<int64_t> &shape);

/// Throws std::invalid_argument if `init` cannot initialise a tensor of this dtype (e.g. a random
/// initialiser for I32) or its arguments are invalid (Uniform with a >= b, negative std, ...).
/// `what` names the tensor in the message.
void checkInit(const Init &init, DType dtype, const std::string &what);
/// The same, and whether `init` fits `shape` (GateConstant: gates must divide the last extent).
void checkInit(const Init &init, DType dtype, const std::vector<int64_t> &shape,
               const std::string &what);

/// The 64-bit seed of the stream for `streamName` under `seed`.
uint64_t streamSeed(uint64_t seed, const std::string &streamName);

/// Fills `tensor` according to `init`, drawing from the stream (seed, streamName).
void initialize(Tensor &tensor, const Init &init, uint64_t seed, const std::string &streamName);

} // namespace attnrt

#endif // ATTNRT_INIT_H
