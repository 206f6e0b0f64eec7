// Optimisers against values worked out by hand (in double; the optimisers compute in float, so
// results agree to a few float ulps). The same numbers come out of torch.optim (foreach=False)
// with the same inputs: they are quoted where torch was used to cross-check.
#include "TestUtil.h"

#include "attnrt/Error.h"
#include "attnrt/Optim.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

using attnrt::Adam;
using attnrt::AdamOptions;
using attnrt::AdamW;
using attnrt::AdamWOptions;
using attnrt::DType;
using attnrt::Init;
using attnrt::NonFiniteGrads;
using attnrt::Optimizer;
using attnrt::ParamStore;
using attnrt::SGD;
using attnrt::SGDOptions;
using attnrt::Tensor;
using attnrt_test::sameValues;

namespace {

/// One F32 parameter "w" holding `values`.
ParamStore oneParam(const std::vector<float> &values, const char *name = "w") {
  ParamStore p;
  Tensor &t = p.declare({name, DType::F32, {static_cast<int64_t>(values.size())}, Init::zeros()});
  for (std::size_t i = 0; i < values.size(); ++i)
    t.data<float>()[i] = values[i];
  return p;
}

void setGrad(ParamStore &grads, const std::vector<float> &values, const char *name = "w") {
  Tensor &g = grads.get(name);
  ASSERT_EQ(g.numel(), static_cast<int64_t>(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i)
    g.data<float>()[i] = values[i];
}

void expectValues(const ParamStore &p, const std::vector<double> &expected, double tol,
                  const char *name = "w") {
  const Tensor &t = p.get(name);
  ASSERT_EQ(t.numel(), static_cast<int64_t>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(t.data<float>()[i], expected[i], tol) << name << "[" << i << "]";
}

/// Runs `steps` updates with the given gradients and checks the parameter after each.
void runSteps(Optimizer &opt, std::vector<float> p0, const std::vector<std::vector<float>> &gs,
              const std::vector<std::vector<double>> &expected, double tol) {
  ParamStore p = oneParam(p0);
  ParamStore g = attnrt::gradientsLike(p);
  for (std::size_t s = 0; s < gs.size(); ++s) {
    setGrad(g, gs[s]);
    opt.step(p, g);
    SCOPED_TRACE("after step " + std::to_string(s + 1));
    expectValues(p, expected[s], tol);
    EXPECT_EQ(opt.stepCount(), static_cast<int64_t>(s + 1));
  }
}

template <class F> std::string messageOf(F &&f) {
  try {
    f();
  } catch (const std::exception &e) {
    return e.what();
  }
  return "(no exception)";
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

// SGD, lr 0.1, momentum 0.9, p0 = [1, 2], gradients [1, -1], [0.5, 0.5], [0, 0]:
//   step 1: b = g = [1, -1] (the first step copies the gradient)   p = [0.9, 2.1]
//   step 2: b = 0.9 b + g = [1.4, -0.4]                            p = [0.76, 2.14]
//   step 3: b = 0.9 b     = [1.26, -0.36]                          p = [0.634, 2.176]
// (torch.optim.SGD: 0.899999976 2.0999999 / 0.75999999 2.13999987 / 0.634000003 2.17599988)
TEST(Optim, SGDMomentum) {
  SGDOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  SGD sgd(o);
  runSteps(sgd, {1, 2}, {{1, -1}, {0.5, 0.5}, {0, 0}},
           {{0.9, 2.1}, {0.76, 2.14}, {0.634, 2.176}}, 1e-6);
  EXPECT_EQ(sgd.slotNames(), std::vector<std::string>{"momentum"});
}

// Nesterov: the update uses g + 0.9 b (same b as above):
//   step 1: g' = [1, -1] + 0.9 [1, -1]      = [1.9, -1.9]    p = [0.81, 2.19]
//   step 2: g' = [0.5, 0.5] + 0.9 [1.4, -0.4] = [1.76, 0.14]  p = [0.634, 2.176]
//   step 3: g' = 0.9 [1.26, -0.36]          = [1.134, -0.324] p = [0.5206, 2.2084]
TEST(Optim, SGDNesterov) {
  SGDOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.nesterov = true;
  SGD sgd(o);
  runSteps(sgd, {1, 2}, {{1, -1}, {0.5, 0.5}, {0, 0}},
           {{0.81, 2.19}, {0.634, 2.176}, {0.5206, 2.2084}}, 1e-6);
}

// Dampening 0.5: b = 0.9 b + 0.5 g after the first step.
//   step 1: b = [1, -1]                               p = [0.9, 2.1]
//   step 2: b = [0.9 + 0.25, -0.9 + 0.25] = [1.15, -0.65]  p = [0.785, 2.165]
//   step 3: b = [1.035, -0.585]                       p = [0.6815, 2.2235]
TEST(Optim, SGDDampening) {
  SGDOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.dampening = 0.5;
  SGD sgd(o);
  runSteps(sgd, {1, 2}, {{1, -1}, {0.5, 0.5}, {0, 0}},
           {{0.9, 2.1}, {0.785, 2.165}, {0.6815, 2.2235}}, 1e-6);
}

// Plain SGD with weight decay 0.1: g' = g + 0.1 p = [0 + 0.1, 1 + 0.2] = [0.1, 1.2];
// p = [1, 2] - 0.1 g' = [0.99, 1.88]. Without momentum there is no state tensor.
TEST(Optim, SGDWeightDecay) {
  SGDOptions o;
  o.lr = 0.1;
  o.weightDecay = 0.1;
  SGD sgd(o);
  runSteps(sgd, {1, 2}, {{0, 1}}, {{0.99, 1.88}}, 1e-7);
  EXPECT_TRUE(sgd.slotNames().empty());
  EXPECT_TRUE(sgd.stateTensors().empty());
}

// Adam, lr 0.1, betas (0.9, 0.999), eps 1e-8, p0 = [1, -2, 0.5].
// Step 1, g = [0.5, -1, 2]: m = 0.1 g, v = 0.001 g^2; bias corrections 1 - 0.9 = 0.1 and
//   1 - 0.999 = 0.001 give m^ = g, v^ = g^2, so each element moves by -lr * g / (|g| + eps),
//   i.e. -0.1 sign(g) (eps shifts it by ~1e-9):            p = [0.9, -1.9, 0.4]
// Step 2, g = [-0.5, -1, 0]; bias corrections 1 - 0.81 = 0.19 and 1 - 0.998001 = 0.001999:
//   [0]: m = 0.9 * 0.05 - 0.05 = -0.005, v = 0.999 * 0.00025 + 0.001 * 0.25 = 0.00049975,
//        m^ = -0.005 / 0.19 = -0.0263158, v^ = 0.00049975 / 0.001999 = 0.25 exactly,
//        p = 0.9 + 0.1 * 0.0263158 / 0.5 = 0.9052632
//   [1]: the same gradient twice: m^ = -1, v^ = 1, p = -1.9 + 0.1 = -1.8
//   [2]: m = 0.9 * 0.2 = 0.18, v = 0.999 * 0.004 = 0.003996, m^ = 0.947368,
//        v^ = 1.998999, sqrt = 1.413860, p = 0.4 - 0.1 * 0.947368 / 1.413860 = 0.3329942
// Step 3, g = [0.25, 3, -1] (same recurrences, bias corrections 0.271 and 0.002997003):
//   p = [0.8877906, -1.8248500, 0.3152675]
// (torch.optim.Adam: 0.900000036 -1.89999998 0.400000006 / 0.905263186 -1.79999995 0.332994163 /
//  0.88779062 -1.82484996 0.315267444)
TEST(Optim, AdamThreeStepsByHand) {
  AdamOptions o;
  o.lr = 0.1;
  Adam adam(o);
  runSteps(adam, {1, -2, 0.5}, {{0.5, -1, 2}, {-0.5, -1, 0}, {0.25, 3, -1}},
           {{0.9, -1.9, 0.4},
            {0.9052631598, -1.8000000020, 0.3329941756},
            {0.8877906068, -1.8248500212, 0.3152674559}},
           5e-7);
  EXPECT_EQ(adam.name(), "adam");
  EXPECT_EQ(adam.slotNames(), (std::vector<std::string>{"m", "v"}));
}

TEST(Optim, AdamMomentsAfterOneStep) {
  AdamOptions o;
  o.lr = 0.1;
  Adam adam(o);
  ParamStore p = oneParam({1, -2, 0.5});
  ParamStore g = attnrt::gradientsLike(p);
  EXPECT_EQ(adam.state("m", "w"), nullptr); // no state before the first step
  setGrad(g, {0.5, -1, 2});
  adam.step(p, g);
  const Tensor *m = adam.state("m", "w");
  const Tensor *v = adam.state("v", "w");
  ASSERT_TRUE(m && v);
  // m = 0.1 g, v = 0.001 g^2 (rounded to float along the way).
  EXPECT_FLOAT_EQ(m->data<float>()[0], 0.05f);
  EXPECT_FLOAT_EQ(m->data<float>()[2], 0.2f);
  EXPECT_FLOAT_EQ(v->data<float>()[1], 0.001f);
  EXPECT_FLOAT_EQ(v->data<float>()[2], 0.004f);
  EXPECT_EQ(adam.state("vmax", "w"), nullptr);
  EXPECT_EQ(adam.state("m", "nope"), nullptr);
}

// AdamW, lr 0.1, weight decay 0.5, p0 = 2, g = 1 twice. Decoupled decay multiplies p by
// 1 - 0.1 * 0.5 = 0.95 before the Adam update, which moves p by -0.1 for a constant gradient:
//   step 1: 2 * 0.95 - 0.1 = 1.8;  step 2: 1.8 * 0.95 - 0.1 = 1.61
// Adam with the same weight decay adds 0.5 p to the gradient instead:
//   step 1: g' = 2, p = 1.9;  step 2: g' = 1 + 0.95 = 1.95, m = 0.18 + 0.195 = 0.375,
//   v = 0.003996 + 0.001 * 3.8025 = 0.0077985, m^ = 1.973684, v^ = 3.901201 (sqrt 1.975146),
//   p = 1.9 - 0.1 * 1.973684 / 1.975146 = 1.8000740
// (torch: AdamW 1.79999995 / 1.6099999; Adam 1.89999998 / 1.80007398)
TEST(Optim, AdamWDecoupledDecayVersusL2) {
  AdamWOptions ow;
  ow.lr = 0.1;
  ow.weightDecay = 0.5;
  AdamW adamw(ow);
  runSteps(adamw, {2}, {{1}, {1}}, {{1.8}, {1.61}}, 1e-6);
  EXPECT_EQ(adamw.name(), "adamw");

  AdamOptions o;
  o.lr = 0.1;
  o.weightDecay = 0.5;
  Adam adam(o);
  runSteps(adam, {2}, {{1}, {1}}, {{1.9}, {1.8000740}}, 1e-6);

  EXPECT_EQ(AdamWOptions().weightDecay, 1e-2); // torch.optim.AdamW's default
  EXPECT_EQ(AdamOptions().weightDecay, 0);
}

// AMSGrad divides by the largest v so far. p0 = 0, g = 2, 0.01, 0.01 (lr 0.1):
//   step 1: m = 0.2, v = 0.004, p = -0.1
//   step 2: m = 0.181, v = 0.999 * 0.004 + 0.001 * 1e-4 = 0.0039961 < 0.004, so vmax = 0.004:
//     p = -0.1 - 0.1 * (0.181 / 0.19) / sqrt(0.004 / 0.001999) = -0.1673444
//     (plain Adam uses v: -0.1673772)
// (torch amsgrad=True: -0.0999999866 / -0.167344362 / -0.219695136)
TEST(Optim, AdamAmsgrad) {
  AdamOptions o;
  o.lr = 0.1;
  o.amsgrad = true;
  Adam ams(o);
  runSteps(ams, {0}, {{2}, {0.01f}, {0.01f}}, {{-0.1}, {-0.1673444}, {-0.2196951}}, 1e-6);
  EXPECT_EQ(ams.slotNames(), (std::vector<std::string>{"m", "v", "vmax"}));
  o.amsgrad = false;
  Adam plain(o);
  runSteps(plain, {0}, {{2}, {0.01f}, {0.01f}}, {{-0.1}, {-0.1673772}, {-0.2197791}}, 1e-6);
}

TEST(Optim, LearningRateIsUsedPerStep) {
  SGDOptions o;
  o.lr = 1;
  SGD sgd(o);
  ParamStore p = oneParam({0});
  ParamStore g = attnrt::gradientsLike(p);
  setGrad(g, {1});
  sgd.step(p, g); // -1
  sgd.setLearningRate(0.5);
  EXPECT_EQ(sgd.learningRate(), 0.5);
  sgd.step(p, g); // -1.5
  expectValues(p, {-1.5}, 0);
  EXPECT_THROW(sgd.setLearningRate(-1), std::invalid_argument);
  EXPECT_THROW(sgd.setLearningRate(std::nan("")), std::invalid_argument);
}

TEST(Optim, OptionsAreValidated) {
  auto sgd = [](SGDOptions o) { return messageOf([&] { SGD s(o); }); };
  SGDOptions o;
  o.nesterov = true;
  EXPECT_TRUE(contains(sgd(o), "Nesterov momentum needs momentum > 0")) << sgd(o);
  o = {};
  o.momentum = -0.1;
  EXPECT_TRUE(contains(sgd(o), "SGD: momentum = -0.1")) << sgd(o);
  o = {};
  o.lr = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(contains(sgd(o), "SGD: lr = inf")) << sgd(o);

  auto adam = [](AdamOptions o) { return messageOf([&] { Adam a(o); }); };
  AdamOptions a;
  a.beta1 = 1;
  EXPECT_EQ(adam(a), "Adam: betas[0] = 1, expected [0, 1)");
  a = {};
  a.beta2 = -0.5;
  EXPECT_EQ(adam(a), "Adam: betas[1] = -0.5, expected [0, 1)");
  a = {};
  a.eps = -1;
  EXPECT_TRUE(contains(adam(a), "eps = -1")) << adam(a);
  AdamWOptions w;
  w.weightDecay = -1;
  EXPECT_TRUE(contains(messageOf([&] { AdamW x(w); }), "AdamW: weightDecay = -1"));
}

TEST(Optim, DescribeShowsTheHyperparameters) {
  AdamOptions o;
  EXPECT_EQ(Adam(o).describe(),
            "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=false)");
  SGDOptions s;
  s.lr = 0.1;
  s.momentum = 0.9;
  s.nesterov = true;
  EXPECT_EQ(SGD(s).describe(),
            "SGD(lr=0.1, momentum=0.9, dampening=0, nesterov=true, weight_decay=0)");
}

TEST(Optim, GradientsLikeAndZero) {
  ParamStore p;
  p.declare({"W", DType::F32, {2, 3}, Init::ones()});
  p.declare({"ids", DType::I32, {4}, Init::zeros()});
  p.declare({"b", DType::F32, {3}, Init::ones()});
  ParamStore g = attnrt::gradientsLike(p);
  EXPECT_EQ(g.names(), (std::vector<std::string>{"W", "b"})); // I32 parameters get none
  EXPECT_EQ(g.get("W").shape(), (std::vector<int64_t>{2, 3}));
  g.get("b").fill(3);
  attnrt::zeroGradients(g);
  EXPECT_EQ(g.get("b").toVector<float>(), (std::vector<float>{0, 0, 0}));
}

TEST(Optim, I32ParametersAreLeftAlone) {
  ParamStore p;
  p.declare({"W", DType::F32, {2}, Init::ones()});
  p.declare({"ids", DType::I32, {2}, Init::constant(7)});
  p.initialize(1);
  // A store with a gradient for every parameter (as Model::gradients() makes it) is accepted;
  // the I32 parameter's gradient is ignored.
  ParamStore g;
  g.declare({"W", DType::F32, {2}, Init::ones()});
  g.declare({"ids", DType::F32, {2}, Init::ones()});
  g.initialize(1);
  SGD sgd(SGDOptions{0.5});
  sgd.step(p, g);
  EXPECT_EQ(p.get("W").toVector<float>(), (std::vector<float>{0.5f, 0.5f}));
  EXPECT_EQ(p.get("ids").toVector<int32_t>(), (std::vector<int32_t>{7, 7}));
  // ... and so is one without it.
  ParamStore g2 = attnrt::gradientsLike(p);
  sgd.step(p, g2);
}

TEST(Optim, MismatchedGradientsNameParameterAndShapes) {
  ParamStore p;
  p.declare({"Wq", DType::F32, {64, 64}, Init::zeros()});
  p.declare({"b", DType::F32, {64}, Init::zeros()});
  ParamStore g;
  g.declare({"Wq", DType::F32, {32, 64}, Init::zeros()});
  g.declare({"extra", DType::F32, {3}, Init::zeros()});
  Adam adam;
  auto before = attnrt_test::snapshot(p);
  std::string m = messageOf([&] { adam.step(p, g); });
  EXPECT_TRUE(contains(m, "Adam.step: ")) << m;
  EXPECT_TRUE(contains(m, "gradient 'Wq' has shape [32, 64], parameter 'Wq' has shape [64, 64]"))
      << m;
  EXPECT_TRUE(contains(m, "no gradient for parameter 'b' [64]")) << m;
  EXPECT_TRUE(contains(m, "gradient 'extra' [3] matches no parameter")) << m;
  EXPECT_THROW(adam.step(p, g), std::invalid_argument);
  attnrt_test::expectUnchanged(p, before);
  EXPECT_EQ(adam.stepCount(), 0);

  ParamStore gi;
  gi.declare({"Wq", DType::I32, {64, 64}, Init::zeros()});
  gi.declare({"b", DType::F32, {64}, Init::zeros()});
  m = messageOf([&] { adam.step(p, gi); });
  EXPECT_TRUE(contains(m, "gradient 'Wq' is I32 [64, 64], expected F32 [64, 64]")) << m;
}

TEST(Optim, StateMustFitTheSameModel) {
  ParamStore a = oneParam({1, 2});
  ParamStore ga = attnrt::gradientsLike(a);
  Adam adam;
  adam.step(a, ga);
  ParamStore b = oneParam({1, 2, 3});
  ParamStore gb = attnrt::gradientsLike(b);
  std::string m = messageOf([&] { adam.step(b, gb); });
  EXPECT_TRUE(contains(m, "the state of parameter 'w' has shape [2], the parameter has shape [3]"))
      << m;
  ParamStore c = oneParam({1, 2}, "v");
  ParamStore gc = attnrt::gradientsLike(c);
  m = messageOf([&] { adam.step(c, gc); });
  EXPECT_TRUE(contains(m, "parameter 'v' has no optimizer state")) << m;
  EXPECT_TRUE(contains(m, "holds state for 'w'")) << m;
  adam.reset();
  adam.step(c, gc); // a reset optimiser starts over
  EXPECT_EQ(adam.stepCount(), 1);
}

TEST(Optim, NonFiniteGradientsThrowNamingTheParameter) {
  ParamStore p;
  p.declare({"a", DType::F32, {3}, Init::ones()});
  p.declare({"b", DType::F32, {4}, Init::ones()});
  ParamStore g = attnrt::gradientsLike(p);
  g.get("b").data<float>()[2] = std::numeric_limits<float>::quiet_NaN();
  g.get("b").data<float>()[3] = -std::numeric_limits<float>::infinity();
  Adam adam;
  auto before = attnrt_test::snapshot(p);
  std::string m = messageOf([&] { adam.step(p, g); });
  EXPECT_TRUE(contains(m, "Adam.step (step 1): non-finite gradients: 'b' [4]: 2 of 4 values are "
                          "not finite (first: NaN at element 2)"))
      << m;
  EXPECT_FALSE(contains(m, "'a'")) << m;
  EXPECT_THROW(adam.step(p, g), attnrt::Error);
  attnrt_test::expectUnchanged(p, before);
  EXPECT_EQ(adam.stepCount(), 0);
  EXPECT_EQ(adam.state("m", "a"), nullptr);
}

TEST(Optim, NonFiniteGradientsCanSkipTheStep) {
  ParamStore p = oneParam({1, 1});
  ParamStore g = attnrt::gradientsLike(p);
  SGDOptions o;
  o.lr = 0.5;
  o.momentum = 0.9;
  o.nonFinite = NonFiniteGrads::SkipStep;
  SGD sgd(o);
  setGrad(g, {1, std::numeric_limits<float>::infinity()});
  sgd.step(p, g);
  EXPECT_TRUE(sgd.lastStepSkipped());
  EXPECT_EQ(sgd.skippedSteps(), 1);
  EXPECT_EQ(sgd.stepCount(), 0);
  expectValues(p, {1, 1}, 0);
  setGrad(g, {1, 1});
  sgd.step(p, g); // the first real step: the momentum buffer starts from this gradient
  EXPECT_FALSE(sgd.lastStepSkipped());
  EXPECT_EQ(sgd.stepCount(), 1);
  expectValues(p, {0.5, 0.5}, 0);
}

TEST(Optim, StateRoundTrip) {
  AdamOptions o;
  o.lr = 0.05;
  o.amsgrad = true;
  Adam a(o);
  ParamStore p;
  p.declare({"W", DType::F32, {2, 3}, Init::uniform(-1, 1)});
  p.declare({"b", DType::F32, {3}, Init::uniform(-1, 1)});
  p.initialize(7);
  ParamStore g = attnrt::gradientsLike(p);
  for (int s = 0; s < 3; ++s) {
    g.get("W").fill(0.1 * (s + 1));
    g.get("b").fill(-0.2);
    a.step(p, g);
  }
  a.setLearningRate(0.0123);
  std::map<std::string, Tensor> tensors;
  attnrt::Metadata meta;
  a.saveState(tensors, meta);
  std::vector<std::string> names;
  for (const auto &e : tensors)
    names.push_back(e.first);
  EXPECT_EQ(names, (std::vector<std::string>{"adam.m.W", "adam.m.b", "adam.v.W", "adam.v.b",
                                             "adam.vmax.W", "adam.vmax.b"}));
  EXPECT_EQ(meta.at("optimizer"), "adam");
  EXPECT_EQ(meta.at("optimizer.step"), "3");
  EXPECT_EQ(meta.at("optimizer.lr"), "0.0123");

  // Unrelated tensors (e.g. a checkpoint's parameters) are ignored.
  tensors.emplace("W", p.get("W"));
  Adam b(o);
  b.loadState(tensors, meta, p);
  EXPECT_EQ(b.stepCount(), 3);
  EXPECT_EQ(b.learningRate(), 0.0123);
  for (const auto &[name, tensor] : a.stateTensors()) {
    const Tensor *other = nullptr;
    for (const auto &[n2, t2] : b.stateTensors())
      if (n2 == name)
        other = t2;
    ASSERT_TRUE(other) << name;
    EXPECT_TRUE(sameValues(*tensor, *other)) << name;
  }
}

TEST(Optim, LoadStateChecksEverything) {
  ParamStore p;
  p.declare({"W", DType::F32, {2, 3}, Init::zeros()});
  p.declare({"b", DType::F32, {3}, Init::zeros()});
  ParamStore g = attnrt::gradientsLike(p);
  Adam a;
  a.step(p, g);
  std::map<std::string, Tensor> tensors;
  attnrt::Metadata meta;
  a.saveState(tensors, meta);

  Adam fresh;
  ParamStore pg = attnrt::gradientsLike(p);
  fresh.step(p, pg);
  fresh.step(p, pg); // state to keep when loading fails
  auto load = [&](const std::map<std::string, Tensor> &t, const attnrt::Metadata &m) {
    return messageOf([&] { fresh.loadState(t, m, p, "checkpoint 'x.safetensors'"); });
  };

  auto t1 = tensors;
  t1.erase("adam.v.b");
  t1["adam.m.W"] = Tensor(DType::F32, {3, 2});
  t1["adam.m.old"] = Tensor(DType::F32, {1});
  std::string m = load(t1, meta);
  EXPECT_TRUE(contains(m, "checkpoint 'x.safetensors': ")) << m;
  EXPECT_TRUE(contains(m, "'adam.m.W' has shape [3, 2], parameter 'W' has shape [2, 3]")) << m;
  EXPECT_TRUE(contains(m, "missing optimizer state 'adam.v.b'")) << m;
  EXPECT_TRUE(contains(m, "unexpected optimizer state 'adam.m.old'")) << m;

  auto m2 = meta;
  m2["optimizer"] = "sgd";
  EXPECT_EQ(load(tensors, m2), "checkpoint 'x.safetensors': holds the state of optimizer 'sgd', "
                               "this optimizer is 'adam'");
  m2 = meta;
  m2["optimizer.step"] = "-3";
  EXPECT_TRUE(contains(load(tensors, m2), "metadata 'optimizer.step' = '-3'"));
  m2 = meta;
  m2.erase("optimizer.lr");
  EXPECT_TRUE(contains(load(tensors, m2), "metadata key 'optimizer.lr' is missing"));
  EXPECT_TRUE(contains(load(tensors, {}), "no optimizer state"));
  EXPECT_THROW(fresh.loadState(tensors, {}, p), attnrt::Error);

  // Every failure left the optimiser as it was.
  EXPECT_EQ(fresh.stepCount(), 2);
  EXPECT_NE(fresh.state("m", "W"), nullptr);
}
