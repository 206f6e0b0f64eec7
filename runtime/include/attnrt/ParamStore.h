// ParamStore: a model's named parameters, their initialisers and their checkpoints.
//
//   attnrt::ParamStore params;
//   params.declare({"Wq", attnrt::DType::F32, {64, 64}, attnrt::Init::xavierUniform()});
//   params.declare({"bq", attnrt::DType::F32, {64}, attnrt::Init::zeros()});
//   params.initialize(/*seed=*/42);
//   kernel(params.get("Wq").buffer(), ...);
//   params.save("ckpt.safetensors");
//   params.load("ckpt.safetensors");   // checks names, dtypes and shapes first
//
// Tensors live as long as the store: references and buffer() pointers obtained from get() stay
// valid across later declare(), initialize() and load() calls (load copies into them).
#ifndef ATTNRT_PARAMSTORE_H
#define ATTNRT_PARAMSTORE_H

#include "attnrt/Init.h"
#include "attnrt/Safetensors.h"
#include "attnrt/Tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace attnrt {

struct ParamSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  Init init;
};

struct LoadOptions {
  bool allowMissing = false;    // parameters absent from the file keep their current values
  bool allowUnexpected = false; // tensors in the file that the model does not declare are ignored
};

class ParamStore {
public:
  ParamStore() = default;
  ParamStore(const ParamStore &) = delete; // references handed out by get() must stay unique
  ParamStore &operator=(const ParamStore &) = delete;
  ParamStore(ParamStore &&) = default;
  ParamStore &operator=(ParamStore &&) = default;

  /// Adds a zero-filled parameter and returns it. Throws std::invalid_argument for an empty or
  /// duplicate name, a negative extent, or an initialiser that does not fit the dtype.
  Tensor &declare(ParamSpec spec);

  /// Initialises every parameter from the stream (seed, parameter name).
  void initialize(uint64_t seed);

  /// Throws std::invalid_argument for an unknown name, listing the declared names.
  Tensor &get(const std::string &name);
  const Tensor &get(const std::string &name) const;
  const ParamSpec &spec(const std::string &name) const;
  bool contains(const std::string &name) const { return index_.count(name) != 0; }

  /// Names in declaration order.
  const std::vector<std::string> &names() const { return names_; }
  std::size_t size() const { return names_.size(); }
  /// Total number of elements over all parameters.
  int64_t numel() const;

  /// Writes every parameter (declaration order) as a safetensors file, atomically.
  void save(const std::string &path, const Metadata &metadata = {}) const;

  /// Reads a safetensors checkpoint and returns its metadata. Every declared parameter must be
  /// present with the declared dtype and shape and no other tensor may be present (unless
  /// `options` relaxes that); otherwise throws attnrt::Error listing every mismatch, e.g.
  ///   checkpoint 'w.safetensors': parameter 'Wq' has shape [32, 64], the model expects [64, 64]
  /// A load that throws leaves every parameter unchanged.
  Metadata load(const std::string &path, const LoadOptions &options = {});

  /// What load() does with tensors already in memory (e.g. the parameter part of a training
  /// checkpoint): checks them all, then copies them in. Messages start "checkpoint '<source>': ".
  /// Throws attnrt::Error and changes nothing if any check fails.
  void loadTensors(const std::map<std::string, Tensor> &tensors, const std::string &source,
                   const LoadOptions &options = {});
  /// The checks of loadTensors alone.
  void checkTensors(const std::map<std::string, Tensor> &tensors, const std::string &source,
                    const LoadOptions &options = {}) const;

private:
  struct Param {
    ParamSpec spec;
    Tensor tensor;
  };
  const Param &find(const std::string &name, const char *what) const;

  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Param>> params_; // unique_ptr: stable addresses
  std::unordered_map<std::string, std::size_t> index_;
};

} // namespace attnrt

#endif // ATTNRT_PARAMSTORE_H
