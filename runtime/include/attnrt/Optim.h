// Optimisers: SGD (momentum, Nesterov, weight decay), Adam and AdamW, with PyTorch's update rules.
//
//   attnrt::ParamStore grads = attnrt::gradientsLike(params);   // same names and shapes, F32, zero
//   attnrt::Adam adam({/*lr=*/1e-3});
//   for (...) {
//     attnrt::zeroGradients(grads);
//     ... forward + backward, filling grads ...
//     adam.setLearningRate(schedule(adam.stepCount()));
//     adam.step(params, grads);
//   }
//
// Gradients are a ParamStore holding, for every F32 parameter, an F32 tensor of the same name and
// shape: Model::gradients() of a generated model, or gradientsLike(params). I32 parameters (ids,
// lookup tables) are not trainable: optimisers leave them alone, need no gradient for them and
// ignore one if present.
//
// Update rules, per element, for step t = stepCount() + 1 (g: gradient, p: parameter), exactly as
// torch.optim.SGD / Adam / AdamW (foreach=False) compute them on float32 tensors: the same
// operations in the same order, state in float, each scalar coefficient computed in double and
// rounded to float where PyTorch rounds it:
//   SGD    g += wd*p;  b = (t == 1 ? g : momentum*b + (1 - dampening)*g);
//          g = nesterov ? g + momentum*b : b  (without momentum: g);  p += -lr*g
//   Adam   g += wd*p  (L2 penalty, added to the gradient)
//   AdamW  p *= 1 - lr*wd  (decoupled weight decay, before the moments)
//   both   m += (1 - beta1)*(g - m);  v = beta2*v + (1 - beta2)*g*g;  (amsgrad: vmax = max(vmax, v))
//          p += -(lr / (1 - beta1^t)) * (m / (sqrt(v) / sqrt(1 - beta2^t) + eps))
// Optim.cpp is compiled without floating-point contraction, so a step gives the same bits on
// every platform; test/runtime/OptimTest.cpp checks steps against hand-computed values.
//
// Errors (the parameters and the state are unchanged when step() throws):
//   - a gradient missing, of another dtype or shape, or naming no parameter:
//     std::invalid_argument naming each parameter with both shapes, e.g.
//       Adam.step: gradient 'Wq' has shape [32, 64], parameter 'Wq' has shape [64, 64]
//   - NaN or +-inf in a gradient: attnrt::Error naming the parameters, unless the options say
//     NonFiniteGrads::SkipStep, in which case the step is skipped (see skippedSteps()).
//
// State (moments, step count, learning rate) is saved and restored with saveState / loadState,
// under the tensor names "<name()>.<slot>.<parameter>", e.g. "adam.m.Wq", "adam.v.Wq",
// "sgd.momentum.Wq", and the metadata keys "optimizer" (= name()), "optimizer.step",
// "optimizer.skipped", "optimizer.lr" and "optimizer.config" (describe(), informational).
// Checkpoint.h stores it beside the parameters in one file.
#ifndef ATTNRT_OPTIM_H
#define ATTNRT_OPTIM_H

#include "attnrt/ParamStore.h"
#include "attnrt/Safetensors.h"
#include "attnrt/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace attnrt {

/// What step() does when a gradient holds NaN or +-inf.
enum class NonFiniteGrads {
  Throw,    ///< throw attnrt::Error naming the parameters; nothing changes
  SkipStep, ///< change nothing, count the step in skippedSteps(), set lastStepSkipped()
};

/// A zero-filled F32 store with the names and shapes of `params`' F32 parameters (declaration
/// order): the gradient store that Optimizer::step and the clipping functions expect.
ParamStore gradientsLike(const ParamStore &params);

/// Sets every tensor of `grads` to zero.
void zeroGradients(ParamStore &grads);

class Optimizer {
public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer &) = delete; // no slicing copies of a polymorphic object
  Optimizer &operator=(const Optimizer &) = delete;

  /// Applies one update to every F32 parameter of `params` using `grads` (see the header comment
  /// for the checks). The first step creates the state; every later step must see the same
  /// trainable parameters (names and shapes), else std::invalid_argument.
  void step(ParamStore &params, const ParamStore &grads);

  /// The learning rate of the next step. setLearningRate throws std::invalid_argument for a
  /// negative or non-finite value. Schedules (Schedule.h) set it before each step.
  double learningRate() const { return lr_; }
  void setLearningRate(double lr);

  /// Updates applied so far (skipped steps are not counted); the next step is stepCount() + 1.
  int64_t stepCount() const { return steps_; }
  /// Steps skipped for non-finite gradients (NonFiniteGrads::SkipStep).
  int64_t skippedSteps() const { return skipped_; }
  /// Whether the last call of step() was skipped.
  bool lastStepSkipped() const { return lastSkipped_; }

  /// "sgd", "adam", "adamw": the prefix of the state tensor names.
  virtual std::string name() const = 0;
  /// "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=false)".
  virtual std::string describe() const = 0;
  /// The per-parameter state tensors: SGD {"momentum"} (none when momentum is 0), Adam and
  /// AdamW {"m", "v"}, plus "vmax" with amsgrad.
  virtual std::vector<std::string> slotNames() const = 0;

  /// The state tensor `slot` of parameter `param` (same shape, F32), or nullptr before the first
  /// step or for an unknown slot or parameter.
  const Tensor *state(const std::string &slot, const std::string &param) const;

  /// "<name()>.<slot>.<param>" for every state tensor, plus the metadata keys listed in the header
  /// comment. Pointers stay valid until the next step(), loadState() or reset().
  std::vector<std::pair<std::string, const Tensor *>> stateTensors() const;
  Metadata stateMetadata() const;
  /// Adds copies of the state tensors and the metadata keys to `tensors` and `metadata`.
  void saveState(std::map<std::string, Tensor> &tensors, Metadata &metadata) const;

  /// Restores what saveState wrote (step count, skipped count, learning rate, moments). Tensors
  /// without the "<name()>." prefix are ignored, so a whole checkpoint's tensors may be passed.
  /// Checks against the F32 parameters of `params` that the metadata names this optimiser, and,
  /// after at least one step, that every state tensor is present, F32 and of its parameter's
  /// shape, and that no other "<name()>." tensor is present. Throws attnrt::Error
  /// "<source>: ..." listing every problem, and then leaves the optimiser unchanged.
  void loadState(const std::map<std::string, Tensor> &tensors, const Metadata &metadata,
                 const ParamStore &params, const std::string &source = "optimizer state");

  /// Drops the state and the counters (the learning rate stays).
  void reset();

protected:
  Optimizer(double lr, NonFiniteGrads nonFinite, const char *what);

  /// Updates the n elements of one parameter at step t (1-based). `slots` holds the parameter's
  /// state tensors in slotNames() order (zero-filled before the first step).
  virtual void update(float *param, const float *grad, float *const *slots, int64_t n,
                      int64_t t) const = 0;

  /// std::invalid_argument "<what>: <message>", e.g. "Adam: betas[0] = 1, expected [0, 1)".
  [[noreturn]] void badOption(const std::string &message) const;
  const char *what_; // "SGD", "Adam", "AdamW": names the optimiser in messages

private:
  double lr_;
  NonFiniteGrads nonFinite_;
  int64_t steps_ = 0;
  int64_t skipped_ = 0;
  bool lastSkipped_ = false;
  /// parameter name -> its state tensors (slotNames() order); empty before the first step.
  std::map<std::string, std::vector<Tensor>> state_;
};

struct SGDOptions {
  double lr = 1e-3; // torch.optim.SGD's default
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false; // needs momentum > 0 and dampening = 0
  double weightDecay = 0;
  NonFiniteGrads nonFinite = NonFiniteGrads::Throw;
};

class SGD : public Optimizer {
public:
  /// Throws std::invalid_argument for a negative or non-finite lr, momentum, dampening or
  /// weight decay, or Nesterov without momentum or with dampening (as PyTorch does).
  explicit SGD(const SGDOptions &options = {});
  const SGDOptions &options() const { return options_; }
  std::string name() const override { return "sgd"; }
  std::string describe() const override;
  std::vector<std::string> slotNames() const override;

protected:
  void update(float *param, const float *grad, float *const *slots, int64_t n,
              int64_t t) const override;

private:
  SGDOptions options_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 0; // Adam: L2 penalty added to the gradient
  bool amsgrad = false;
  NonFiniteGrads nonFinite = NonFiniteGrads::Throw;
};

/// The same fields, with torch.optim.AdamW's default weight decay.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weightDecay = 1e-2; // AdamW: decoupled, p *= 1 - lr*wd
  bool amsgrad = false;
  NonFiniteGrads nonFinite = NonFiniteGrads::Throw;
};

class Adam : public Optimizer {
public:
  /// Throws std::invalid_argument for a negative or non-finite lr, eps or weight decay, or a beta
  /// outside [0, 1).
  explicit Adam(const AdamOptions &options = {});
  const AdamOptions &options() const { return options_; }
  std::string name() const override { return decoupled_ ? "adamw" : "adam"; }
  std::string describe() const override;
  std::vector<std::string> slotNames() const override;

protected:
  Adam(const AdamOptions &options, bool decoupled);
  void update(float *param, const float *grad, float *const *slots, int64_t n,
              int64_t t) const override;

private:
  AdamOptions options_;
  bool decoupled_;
};

/// Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr*wd before each update.
class AdamW : public Adam {
public:
  explicit AdamW(const AdamWOptions &options = {});
  const AdamWOptions &options() const { return optionsW_; }

private:
  AdamWOptions optionsW_;
};

} // namespace attnrt

#endif // ATTNRT_OPTIM_H
