#include "attnrt/Optim.h"

#include "Text.h"
#include "attnrt/Error.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

// Built with -ffp-contract=off (runtime/CMakeLists.txt): every operation below rounds to float on
// its own, so a step gives the same bits on every platform.

namespace attnrt {

using detail::formatDouble;

namespace {

constexpr std::size_t kMaxListed = 20;

/// "a; b; c", at most kMaxListed items then "and N more".
std::string joinProblems(const std::vector<std::string> &problems) {
  std::string s;
  for (std::size_t i = 0; i < problems.size() && i < kMaxListed; ++i)
    s += (i ? "; " : "") + problems[i];
  if (problems.size() > kMaxListed)
    s += "; and " + std::to_string(problems.size() - kMaxListed) + " more";
  return s;
}

bool isTrainable(const ParamStore &params, const std::string &name) {
  return params.spec(name).dtype == DType::F32;
}

std::vector<std::string> trainableNames(const ParamStore &params) {
  std::vector<std::string> names;
  for (const std::string &name : params.names())
    if (isTrainable(params, name))
      names.push_back(name);
  return names;
}

/// "'Wq' [64, 64]: 3 of 4096 values are not finite (first: NaN at element 17)", or "" if finite.
std::string nonFiniteSummary(const std::string &name, const Tensor &grad) {
  const float *g = grad.data<float>();
  int64_t count = 0, first = -1;
  for (int64_t i = 0; i < grad.numel(); ++i)
    if (!std::isfinite(g[i])) {
      if (first < 0)
        first = i;
      ++count;
    }
  if (count == 0)
    return "";
  std::string kind = std::isnan(g[first]) ? "NaN" : g[first] > 0 ? "+inf" : "-inf";
  return "'" + name + "' " + grad.shapeString() + ": " + std::to_string(count) + " of " +
         std::to_string(grad.numel()) + " values are not finite (first: " + kind +
         " at element " + std::to_string(first) + ")";
}

bool finiteNonNegative(double v) { return std::isfinite(v) && v >= 0; }

} // namespace

ParamStore gradientsLike(const ParamStore &params) {
  ParamStore grads;
  for (const std::string &name : trainableNames(params))
    grads.declare({name, DType::F32, params.spec(name).shape, Init::zeros()});
  return grads;
}

void zeroGradients(ParamStore &grads) {
  for (const std::string &name : grads.names())
    grads.get(name).fill(0);
}

Optimizer::Optimizer(double lr, NonFiniteGrads nonFinite, const char *what)
    : what_(what), lr_(lr), nonFinite_(nonFinite) {
  if (!finiteNonNegative(lr))
    badOption("lr = " + formatDouble(lr) + ", expected a finite value >= 0");
}

void Optimizer::badOption(const std::string &message) const {
  throw std::invalid_argument(std::string(what_) + ": " + message);
}

void Optimizer::setLearningRate(double lr) {
  if (!finiteNonNegative(lr))
    throw std::invalid_argument(std::string(what_) + ".setLearningRate: lr = " +
                                formatDouble(lr) + ", expected a finite value >= 0");
  lr_ = lr;
}

void Optimizer::reset() {
  state_.clear();
  steps_ = 0;
  skipped_ = 0;
  lastSkipped_ = false;
}

const Tensor *Optimizer::state(const std::string &slot, const std::string &param) const {
  auto it = state_.find(param);
  if (it == state_.end())
    return nullptr;
  std::vector<std::string> slots = slotNames();
  for (std::size_t i = 0; i < slots.size(); ++i)
    if (slots[i] == slot)
      return &it->second[i];
  return nullptr;
}

void Optimizer::step(ParamStore &params, const ParamStore &grads) {
  const std::string where = std::string(what_) + ".step";
  const std::vector<std::string> names = trainableNames(params);

  // 1. The gradients must match the trainable parameters one to one.
  std::vector<std::string> problems;
  for (const std::string &name : names) {
    const Tensor &p = params.get(name);
    if (!grads.contains(name)) {
      problems.push_back("no gradient for parameter '" + name + "' " + p.shapeString());
      continue;
    }
    const Tensor &g = grads.get(name);
    if (g.dtype() != DType::F32)
      problems.push_back("gradient '" + name + "' is " + dtypeName(g.dtype()) + " " +
                         g.shapeString() + ", expected F32 " + p.shapeString());
    else if (g.shape() != p.shape())
      problems.push_back("gradient '" + name + "' has shape " + g.shapeString() +
                         ", parameter '" + name + "' has shape " + p.shapeString());
  }
  // A gradient of an I32 parameter (Model::gradients() makes one per parameter) is ignored.
  for (const std::string &name : grads.names())
    if (!params.contains(name))
      problems.push_back("gradient '" + name + "' " + grads.get(name).shapeString() +
                         " matches no parameter");
  if (!problems.empty())
    throw std::invalid_argument(where + ": " + joinProblems(problems));

  // 2. After the first step, the state must fit the same parameters.
  if (!state_.empty()) {
    std::set<std::string> seen;
    for (const std::string &name : names) {
      seen.insert(name);
      auto it = state_.find(name);
      if (it == state_.end()) {
        problems.push_back("parameter '" + name + "' has no optimizer state");
        continue;
      }
      const Tensor &p = params.get(name);
      if (!it->second.empty() && it->second[0].shape() != p.shape())
        problems.push_back("the state of parameter '" + name + "' has shape " +
                           it->second[0].shapeString() + ", the parameter has shape " +
                           p.shapeString());
    }
    for (const auto &entry : state_)
      if (!seen.count(entry.first))
        problems.push_back("the optimizer holds state for '" + entry.first +
                           "', which is not a trainable parameter here");
    if (!problems.empty())
      throw std::invalid_argument(where + ": " + joinProblems(problems) +
                                  " (is this the model the optimizer stepped before?)");
  }

  // 3. Non-finite gradients: throw or skip before anything changes.
  for (const std::string &name : names) {
    std::string summary = nonFiniteSummary(name, grads.get(name));
    if (!summary.empty())
      problems.push_back(summary);
  }
  if (!problems.empty()) {
    if (nonFinite_ == NonFiniteGrads::SkipStep) {
      ++skipped_;
      lastSkipped_ = true;
      return;
    }
    throw Error(where + " (step " + std::to_string(steps_ + 1) +
                "): non-finite gradients: " + joinProblems(problems) +
                "; no parameter was changed (NonFiniteGrads::SkipStep skips such steps)");
  }

  // 4. Create the state at the first step, then update.
  const std::vector<std::string> slots = slotNames();
  if (state_.empty()) {
    std::map<std::string, std::vector<Tensor>> fresh;
    for (const std::string &name : names) {
      std::vector<Tensor> tensors;
      for (std::size_t i = 0; i < slots.size(); ++i)
        tensors.emplace_back(DType::F32, params.get(name).shape());
      fresh.emplace(name, std::move(tensors));
    }
    state_ = std::move(fresh);
  }
  const int64_t t = steps_ + 1;
  std::vector<float *> slotData(slots.size());
  for (const std::string &name : names) {
    Tensor &p = params.get(name);
    std::vector<Tensor> &s = state_.at(name);
    for (std::size_t i = 0; i < s.size(); ++i)
      slotData[i] = s[i].data<float>();
    update(p.data<float>(), grads.get(name).data<float>(), slotData.data(), p.numel(), t);
  }
  steps_ = t;
  lastSkipped_ = false;
}

std::vector<std::pair<std::string, const Tensor *>> Optimizer::stateTensors() const {
  std::vector<std::pair<std::string, const Tensor *>> out;
  const std::vector<std::string> slots = slotNames();
  for (std::size_t i = 0; i < slots.size(); ++i)
    for (const auto &[param, tensors] : state_)
      out.emplace_back(name() + "." + slots[i] + "." + param, &tensors[i]);
  return out;
}

Metadata Optimizer::stateMetadata() const {
  return {{"optimizer", name()},
          {"optimizer.step", std::to_string(steps_)},
          {"optimizer.skipped", std::to_string(skipped_)},
          {"optimizer.lr", formatDouble(lr_)},
          {"optimizer.config", describe()}};
}

void Optimizer::saveState(std::map<std::string, Tensor> &tensors, Metadata &metadata) const {
  for (const auto &[key, tensor] : stateTensors())
    tensors[key] = *tensor;
  for (const auto &[key, value] : stateMetadata())
    metadata[key] = value;
}

void Optimizer::loadState(const std::map<std::string, Tensor> &tensors,
                          const Metadata &metadata, const ParamStore &params,
                          const std::string &source) {
  auto fail = [&](const std::string &what) { throw Error(source + ": " + what); };
  auto value = [&](const std::string &key) -> const std::string & {
    auto it = metadata.find(key);
    if (it == metadata.end())
      fail("no optimizer state: metadata key '" + key + "' is missing");
    return it->second;
  };
  const std::string &kind = value("optimizer");
  if (kind != name())
    fail("holds the state of optimizer '" + kind + "', this optimizer is '" + name() + "'");
  int64_t steps = 0, skipped = 0;
  double lr = 0;
  if (!detail::parseInt64(value("optimizer.step"), steps) || steps < 0)
    fail("metadata 'optimizer.step' = '" + value("optimizer.step") +
         "' is not an integer >= 0");
  if (!detail::parseInt64(value("optimizer.skipped"), skipped) || skipped < 0)
    fail("metadata 'optimizer.skipped' = '" + value("optimizer.skipped") +
         "' is not an integer >= 0");
  if (!detail::parseDouble(value("optimizer.lr"), lr) || !finiteNonNegative(lr))
    fail("metadata 'optimizer.lr' = '" + value("optimizer.lr") +
         "' is not a finite number >= 0");

  const std::string prefix = name() + ".";
  const std::vector<std::string> slots = slotNames();
  std::vector<std::string> problems, missing;
  std::set<std::string> claimed;
  std::map<std::string, std::vector<Tensor>> fresh;
  if (steps > 0) {
    for (const std::string &param : trainableNames(params)) {
      const std::vector<int64_t> &shape = params.spec(param).shape;
      std::vector<Tensor> state;
      for (const std::string &slot : slots) {
        const std::string key = prefix + slot + "." + param;
        auto it = tensors.find(key);
        if (it == tensors.end()) {
          missing.push_back(key);
          continue;
        }
        claimed.insert(key);
        const Tensor &t = it->second;
        if (t.dtype() != DType::F32)
          problems.push_back("'" + key + "' is " + dtypeName(t.dtype()) + ", expected F32");
        else if (t.shape() != shape)
          problems.push_back("'" + key + "' has shape " + t.shapeString() + ", parameter '" +
                             param + "' has shape " + shapeString(shape));
        else
          state.push_back(t);
      }
      fresh.emplace(param, std::move(state));
    }
  }
  std::vector<std::string> unexpected;
  for (const auto &entry : tensors)
    if (entry.first.compare(0, prefix.size(), prefix) == 0 && !claimed.count(entry.first))
      unexpected.push_back(entry.first);
  if (!missing.empty())
    problems.push_back("missing optimizer state " + detail::quotedList(missing));
  if (!unexpected.empty())
    problems.push_back("unexpected optimizer state " + detail::quotedList(unexpected) +
                       (steps == 0 ? " (the state is from step 0)"
                                   : " (no such trainable parameter or slot)"));
  if (!problems.empty())
    fail(joinProblems(problems));

  // Everything checked: commit (nothing below throws).
  state_.swap(fresh);
  steps_ = steps;
  skipped_ = skipped;
  lr_ = lr;
  lastSkipped_ = false;
}

// ---- SGD ----

SGD::SGD(const SGDOptions &options) : Optimizer(options.lr, options.nonFinite, "SGD"),
                                      options_(options) {
  if (!finiteNonNegative(options.momentum))
    badOption("momentum = " + formatDouble(options.momentum) + ", expected a finite value >= 0");
  if (!finiteNonNegative(options.dampening))
    badOption("dampening = " + formatDouble(options.dampening) +
              ", expected a finite value >= 0");
  if (!finiteNonNegative(options.weightDecay))
    badOption("weightDecay = " + formatDouble(options.weightDecay) +
              ", expected a finite value >= 0");
  if (options.nesterov && (options.momentum <= 0 || options.dampening != 0))
    badOption("Nesterov momentum needs momentum > 0 and dampening = 0 (momentum = " +
              formatDouble(options.momentum) + ", dampening = " +
              formatDouble(options.dampening) + ")");
}

std::string SGD::describe() const {
  return "SGD(lr=" + formatDouble(learningRate()) + ", momentum=" +
         formatDouble(options_.momentum) + ", dampening=" + formatDouble(options_.dampening) +
         ", nesterov=" + (options_.nesterov ? "true" : "false") + ", weight_decay=" +
         formatDouble(options_.weightDecay) + ")";
}

std::vector<std::string> SGD::slotNames() const {
  if (options_.momentum != 0)
    return {"momentum"};
  return {};
}

void SGD::update(float *p, const float *grad, float *const *slots, int64_t n, int64_t t) const {
  // torch: grad = grad.add(param, alpha=wd); buf = grad.clone() at the first step, else
  // buf.mul_(momentum).add_(grad, alpha=1 - dampening); grad = nesterov ? grad.add(buf,
  // alpha=momentum) : buf; param.add_(grad, alpha=-lr). Each alpha is rounded to float.
  const bool decay = options_.weightDecay != 0;
  const float wd = static_cast<float>(options_.weightDecay);
  const float negLr = static_cast<float>(-learningRate());
  if (options_.momentum == 0) {
    for (int64_t i = 0; i < n; ++i) {
      float g = decay ? grad[i] + wd * p[i] : grad[i];
      p[i] = p[i] + negLr * g;
    }
    return;
  }
  const float momentum = static_cast<float>(options_.momentum);
  const float keep = static_cast<float>(1 - options_.dampening);
  float *buf = slots[0];
  const bool first = t == 1, nesterov = options_.nesterov;
  for (int64_t i = 0; i < n; ++i) {
    float g = decay ? grad[i] + wd * p[i] : grad[i];
    float b = first ? g : buf[i] * momentum + keep * g;
    buf[i] = b;
    g = nesterov ? g + momentum * b : b;
    p[i] = p[i] + negLr * g;
  }
}

// ---- Adam / AdamW ----

Adam::Adam(const AdamOptions &options) : Adam(options, /*decoupled=*/false) {}

Adam::Adam(const AdamOptions &options, bool decoupled)
    : Optimizer(options.lr, options.nonFinite, decoupled ? "AdamW" : "Adam"), options_(options),
      decoupled_(decoupled) {
  if (!(options.beta1 >= 0 && options.beta1 < 1))
    badOption("betas[0] = " + formatDouble(options.beta1) + ", expected [0, 1)");
  if (!(options.beta2 >= 0 && options.beta2 < 1))
    badOption("betas[1] = " + formatDouble(options.beta2) + ", expected [0, 1)");
  if (!finiteNonNegative(options.eps))
    badOption("eps = " + formatDouble(options.eps) + ", expected a finite value >= 0");
  if (!finiteNonNegative(options.weightDecay))
    badOption("weightDecay = " + formatDouble(options.weightDecay) +
              ", expected a finite value >= 0");
}

namespace {
AdamOptions asAdamOptions(const AdamWOptions &o) {
  AdamOptions a;
  a.lr = o.lr;
  a.beta1 = o.beta1;
  a.beta2 = o.beta2;
  a.eps = o.eps;
  a.weightDecay = o.weightDecay;
  a.amsgrad = o.amsgrad;
  a.nonFinite = o.nonFinite;
  return a;
}
} // namespace

AdamW::AdamW(const AdamWOptions &options)
    : Adam(asAdamOptions(options), /*decoupled=*/true), optionsW_(options) {}

std::string Adam::describe() const {
  return std::string(decoupled_ ? "AdamW" : "Adam") + "(lr=" + formatDouble(learningRate()) +
         ", betas=(" + formatDouble(options_.beta1) + ", " + formatDouble(options_.beta2) +
         "), eps=" + formatDouble(options_.eps) + ", weight_decay=" +
         formatDouble(options_.weightDecay) + ", amsgrad=" +
         (options_.amsgrad ? "true" : "false") + ")";
}

std::vector<std::string> Adam::slotNames() const {
  if (options_.amsgrad)
    return {"m", "v", "vmax"};
  return {"m", "v"};
}

void Adam::update(float *p, const float *grad, float *const *slots, int64_t n, int64_t t) const {
  // torch.optim.Adam / AdamW, _single_tensor_adam:
  //   AdamW: param.mul_(1 - lr * weight_decay)      Adam: grad = grad.add(param, alpha=wd)
  //   exp_avg.lerp_(grad, 1 - beta1)                 (m + w*(g - m) for w < 0.5)
  //   exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
  //   bias_correction1 = 1 - beta1**step; bias_correction2 = 1 - beta2**step (double)
  //   step_size = lr / bias_correction1; bias_correction2_sqrt = bias_correction2**0.5
  //   denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)   (amsgrad: max_exp_avg_sq)
  //   param.addcdiv_(exp_avg, denom, value=-step_size)   (p + (value*m)/denom, as ATen's kernel)
  const double lr = learningRate(), wd = options_.weightDecay;
  const double beta1 = options_.beta1, beta2 = options_.beta2;
  const bool l2 = !decoupled_ && wd != 0, decay = decoupled_ && wd != 0;
  const float wdF = static_cast<float>(wd);
  const float decayF = static_cast<float>(1 - lr * wd);
  const float w1 = static_cast<float>(1 - beta1);
  const bool smallWeight = w1 < 0.5f;
  const float oneMinusW1 = 1.0f - w1;
  const float beta2F = static_cast<float>(beta2);
  const float w2 = static_cast<float>(1 - beta2);
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(t));
  const double bc2 = 1 - std::pow(beta2, static_cast<double>(t));
  const float negStep = static_cast<float>(-(lr / bc1));
  const float bc2Sqrt = static_cast<float>(std::pow(bc2, 0.5));
  const float eps = static_cast<float>(options_.eps);
  float *m = slots[0], *v = slots[1];
  float *vmax = options_.amsgrad ? slots[2] : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    float g = l2 ? grad[i] + wdF * p[i] : grad[i];
    float param = decay ? p[i] * decayF : p[i];
    float mi = smallWeight ? m[i] + w1 * (g - m[i]) : g - (g - m[i]) * oneMinusW1;
    float vi = v[i] * beta2F;
    vi = vi + w2 * g * g;
    m[i] = mi;
    v[i] = vi;
    if (vmax) {
      vi = std::max(vmax[i], vi);
      vmax[i] = vi;
    }
    float denom = std::sqrt(vi) / bc2Sqrt + eps;
    p[i] = param + negStep * mi / denom;
  }
}

} // namespace attnrt
