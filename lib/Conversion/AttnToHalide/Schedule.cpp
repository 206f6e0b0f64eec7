//===- Schedule.cpp - CPU and GPU schedules of the materialised stages ----===//
//
// Inline stages cost nothing of their own: they are fused into the loops of
// their consumers. Every materialised stage is computed at root with:
//  CPU: the innermost axis vectorised by 16 lanes (AVX-512 width for f32),
//       the outermost axes fused and parallel (batch x heads ...), and for
//       stages with an update (contractions, reductions) the reduction loop
//       placed just outside the vector loop, so each output vector
//       accumulates in registers while the reduction runs.
//  GPU: the two innermost axes tiled over blocks x threads (16 x 16); the
//       reduction loops stay inside each thread.
// The fused attention kernel brings its own schedule (attn/Kernels).
// Contractions get register tiles (scheduleContractCPU); a recurrence step's
// contraction with a loop-invariant weight gets its own variant
// (scheduleStepContractCPU), and root-packed weight panels one task per panel.
// A contraction summing along the operands' innermost axis into an output
// whose innermost axis is strided in them is a dot product per output,
// accumulated in vector lanes (scheduleDotCPU).
//
//===----------------------------------------------------------------------===//
#include "Lowerer.h"

#include <set>

using namespace Halide;

namespace attn {
namespace {

constexpr int kVectorLanes = 16;
constexpr int kRowTilesPerBlock = 8; // row tiles sharing one pass over the panels
// Recurrence steps: column panels per task of the parallel loop (and packed
// together, so each row of the weight is read kStepPanelsPerTask * 32 wide).
constexpr int kStepPanelsPerTask = 4;

/// A contraction whose summed axis is contiguous in its operands while its
/// innermost output axis is not (HalideTensor::dotLanes): vectorising the
/// output axis would gather elements a row apart. Each output is instead a
/// dot product accumulated in 16 lanes along the summed axis (rfactor), then
/// summed across the lanes.
void scheduleDotCPU(const HalideTensor &stage) {
  Func acc = stage.accumulator;
  std::vector<Var> args = acc.args(); // innermost first
  acc.compute_root();
  RVar outer(acc.name() + "_ro"), lane(acc.name() + "_ri");
  Var u(acc.name() + "_lane");
  Func lanes = acc.update()
                   .split(stage.reductionVars[0], outer, lane, kVectorLanes,
                          TailStrategy::GuardWithIf)
                   .rfactor(lane, u);
  lanes.compute_at(acc, args[0]).vectorize(u);
  lanes.update().vectorize(u);
  if (args.size() >= 2) {
    acc.parallel(args.back());
    acc.update().parallel(args.back());
  }
}

void scheduleCPU(Func f, const std::vector<RVar> &reductionVars) {
  std::vector<Var> args = f.args(); // innermost first
  f.compute_root();
  if (args.empty())
    return;
  Var inner = args[0];
  auto parallelOuter = [&](auto &&stage) {
    if (args.size() == 2) {
      stage.parallel(args[1]);
    } else if (args.size() >= 3) {
      Var fused(f.name() + "_outer");
      stage.fuse(args[args.size() - 2], args.back(), fused).parallel(fused);
    }
  };
  f.vectorize(inner, kVectorLanes, TailStrategy::GuardWithIf);
  parallelOuter(f);
  for (int i = 0; i < f.num_update_definitions(); ++i) {
    Stage update = f.update(i);
    std::vector<VarOrRVar> order{inner};
    for (const RVar &r : reductionVars)
      order.push_back(r);
    for (size_t k = 1; k < args.size(); ++k)
      order.push_back(args[k]);
    update.reorder(order);
    update.vectorize(inner, kVectorLanes, TailStrategy::GuardWithIf);
    parallelOuter(update);
  }
}

/// A Func that a contraction's accumulator reads and LowerContract named
/// "<contraction><suffix>" ("_panels": the packed panels; "_rows": the dense
/// copy of a step's row operand), found in the update's definition.
/// Undefined if there is none.
Func operandOf(const HalideTensor &t, const std::string &suffix) {
  if (!t.panel || !t.accumulator.defined() ||
      t.accumulator.num_update_definitions() == 0)
    return Func();
  struct Finder : public Internal::IRVisitor {
    using IRVisitor::visit;
    std::string name;
    Func found;
    void visit(const Internal::Call *c) override {
      if (c->call_type == Internal::Call::Halide && c->name == name &&
          c->func.defined())
        found = Func(Internal::Function(c->func));
      IRVisitor::visit(c);
    }
  } finder;
  finder.name = t.func.name() + suffix;
  Tuple values = t.accumulator.update_values(0);
  for (const Expr &e : values.as_vector())
    e.accept(&finder);
  return finder.found;
}

/// The register tile's accumulator, computed at `at` of the output: tile
/// (vectors x rows) unrolled, the reduction loop outside it.
void scheduleAccumulatorCPU(const HalideTensor &t, Func f, const Var &at,
                            int yTile) {
  Func acc = t.accumulator;
  int rank = static_cast<int>(f.args().size());
  int yIndex = rank - 1 - t.rowAxis;
  acc.compute_at(f, at);
  Var ax = acc.args()[0], ay = acc.args()[yIndex];
  Var axo("axo"), axi("axi"), ayo("ayo"), ayi("ayi");
  acc.split(ax, axo, axi, kVectorLanes, TailStrategy::GuardWithIf)
      .vectorize(axi)
      .unroll(axo)
      .split(ay, ayo, ayi, yTile, TailStrategy::GuardWithIf)
      .unroll(ayi);
  Stage update = acc.update();
  update.split(ax, axo, axi, kVectorLanes, TailStrategy::GuardWithIf)
      .split(ay, ayo, ayi, yTile, TailStrategy::GuardWithIf);
  std::vector<VarOrRVar> updateOrder{axi, axo, ayi};
  for (const RVar &r : t.reductionVars)
    updateOrder.push_back(r);
  for (int k = 1; k < static_cast<int>(acc.args().size()); ++k)
    updateOrder.push_back(k == yIndex ? ayo : acc.args()[k]);
  update.reorder(updateOrder).vectorize(axi).unroll(axo).unroll(ayi);
}

/// A contraction of a recurrence step with a loop-invariant weight (h @ U):
/// [rows, columns], the rows one time step of the batch (few: 64 rows make
/// one or two of scheduleContractCPU's row blocks, so its parallel loop had
/// one or two tasks), the weight large and read once per step.
///  - The parallel loop is over groups of kStepPanelsPerTask column panels.
///  - Each task packs its panels (LowerContract leaves the packing to this
///    schedule): walking the weight's rows reads kStepPanelsPerTask * P
///    contiguous floats per row, and the packed panels stay in L2 while every
///    row tile uses them. Packed at the root, the step made a second pass
///    over the whole weight, and the root packing's parallel loop had one
///    task per two vectors copied.
///  - Tiles are 8 rows x 32 columns (16 vector accumulators), over the dense
///    copy of the rows ("_rows", computed once per step), so the tile's rows
///    are at constant offsets from one pointer.
/// The weight is still packed once per step; packing it once per call needs
/// the packed weight to cross kernels (KernelPlan), which this does not do.
void scheduleStepContractCPU(const HalideTensor &t, Func panels) {
  Func f = t.func;
  Var x = f.args()[0], y = f.args()[1];
  int xTile = t.panel; // 32 or 16 columns
  int yTile = xTile == 2 * kVectorLanes ? 8 : 16; // 16 vector accumulators
  Var xoo("xoo"), xo("xo"), xi("xi"), yo("yo"), yi("yi");
  f.align_bounds(x, t.panel); // whole panels: the copy out of a tile is dense
  f.compute_root()
      .split(x, xo, xi, xTile, TailStrategy::GuardWithIf)
      .split(xo, xoo, xo, kStepPanelsPerTask, TailStrategy::GuardWithIf)
      .split(y, yo, yi, yTile, TailStrategy::GuardWithIf)
      .vectorize(xi, kVectorLanes, TailStrategy::GuardWithIf)
      .reorder(xi, yi, yo, xo, xoo)
      .parallel(xoo);
  scheduleAccumulatorCPU(t, f, yo, yTile);
  // panels(xi, reduction axes..., xo): the task's panels inside each
  // reduction step, so a row of the weight is read contiguously.
  std::vector<Var> pargs = panels.args();
  std::vector<VarOrRVar> packOrder{pargs[0], pargs.back()};
  for (size_t k = 1; k + 1 < pargs.size(); ++k)
    packOrder.push_back(pargs[k]);
  panels.compute_at(f, xoo)
      .reorder(packOrder)
      .vectorize(pargs[0], kVectorLanes, TailStrategy::GuardWithIf);
  if (Func rows = operandOf(t, "_rows"); rows.defined())
    rows.compute_root().vectorize(rows.args()[0], kVectorLanes,
                                  TailStrategy::GuardWithIf);
}

/// Root-packed panels [col/P][reduction...][P]: one task per panel (fusing the
/// outer axes made one task per two vectors copied).
void schedulePanelsCPU(Func panels) {
  std::vector<Var> args = panels.args();
  panels.compute_root()
      .vectorize(args[0], kVectorLanes, TailStrategy::GuardWithIf)
      .parallel(args.back());
}

/// A contraction as register-blocked tiles (PERFORMANCE.md, lesson 1): the
/// output is tiled into (vectors x rows) blocks; each block's accumulator
/// lives in registers while the reduction loop runs outside the unrolled
/// block, then is stored once.
void scheduleContractCPU(const HalideTensor &t) {
  Func f = t.func;
  std::vector<Var> args = f.args();
  int rank = static_cast<int>(args.size());
  Var x = args[0], y = args[rank - 1 - t.rowAxis];
  const Expr &xExtent = t.extents.back();
  bool wide = t.panel ? t.panel == 2 * kVectorLanes
                      : is_const(xExtent) && *as_const_int(xExtent) % 32 == 0;
  int xTile = wide ? 2 * kVectorLanes : kVectorLanes; // == t.panel if any
  int yTile = wide ? 6 : 8; // at most ~24 vector accumulators in flight
  Var xo("xo"), xi("xi"), yb("yb"), yi("yi"), yoo("yoo"), yoi("yoi");
  if (t.panel)
    f.align_bounds(x, t.panel);
  f.compute_root()
      .split(x, xo, xi, xTile, TailStrategy::GuardWithIf)
      .split(y, yoo, yb, yTile * kRowTilesPerBlock, TailStrategy::GuardWithIf)
      .split(yb, yoi, yi, yTile, TailStrategy::GuardWithIf)
      .vectorize(xi, kVectorLanes, TailStrategy::GuardWithIf);
  // Loops, inner to outer: the tile (xi, yi); yoi, the tiles of a row block;
  // xo, the column panels; the other axes, with yoo (the row blocks) in y's
  // place. A panel is reused by every tile of a row block while it is in
  // cache, and the rows of a block by every panel. The axes from yoo
  // outwards are fused into one parallel loop.
  int yIndex = rank - 1 - t.rowAxis;
  std::vector<VarOrRVar> order{xi, yi, yoi, xo};
  for (int k = 1; k < rank; ++k)
    order.push_back(k == yIndex ? yoo : args[k]);
  f.reorder(order);
  Var par = yoo;
  for (int k = yIndex + 1; k < rank; ++k) {
    Var fused(f.name() + "_par" + std::to_string(k));
    f.fuse(par, args[k], fused);
    par = fused;
  }
  f.parallel(par);
  scheduleAccumulatorCPU(t, f, yoi, yTile);
}

/// scatter_add: the update's row is a token id, so only the trailing axes
/// (each a separate sum) are parallel: vectorised on CPU, threads on GPU.
void scheduleScatter(Func f, bool gpu) {
  std::vector<Var> args = f.args(); // innermost first; the rows last
  f.compute_root();
  Stage update = f.update(0);
  if (gpu) {
    Var bx, tx;
    if (args.size() >= 2) {
      f.gpu_tile(args[0], bx, tx, 64, TailStrategy::GuardWithIf);
      update.gpu_tile(args[0], bx, tx, 64, TailStrategy::GuardWithIf);
    } else {
      f.gpu_tile(args[0], bx, tx, 64, TailStrategy::GuardWithIf);
      update.gpu_single_thread();
    }
    return;
  }
  f.vectorize(args[0], kVectorLanes, TailStrategy::GuardWithIf);
  if (args.size() >= 2)
    update.vectorize(args[0], kVectorLanes, TailStrategy::GuardWithIf);
}

void scheduleGPU(Func f) {
  std::vector<Var> args = f.args();
  f.compute_root();
  auto tile = [&](auto &&stage) {
    if (args.empty()) {
      stage.gpu_single_thread();
    } else if (args.size() == 1) {
      Var bx, tx;
      stage.gpu_tile(args[0], bx, tx, 64, TailStrategy::GuardWithIf);
    } else {
      Var bx, by, tx, ty;
      stage.gpu_tile(args[0], args[1], bx, by, tx, ty, 16, 16,
                     TailStrategy::GuardWithIf);
    }
  };
  tile(f);
  for (int i = 0; i < f.num_update_definitions(); ++i)
    tile(f.update(i));
}

} // namespace

void Lowerer::schedule(const std::vector<Func> &outputs) {
  bool gpu = target.has_gpu_feature();
  std::set<std::string> scheduled, stageNames, panelNames;
  for (const HalideTensor &stage : stages) {
    stageNames.insert(stage.func.name());
    if (stage.role == StageRole::Contract)
      if (Func panels = operandOf(stage, "_panels"); panels.defined())
        panelNames.insert(panels.name());
  }
  auto apply = [&](Func f, const std::vector<RVar> &rvars) {
    if (!scheduled.insert(f.name()).second)
      return;
    if (gpu)
      scheduleGPU(f);
    else if (panelNames.count(f.name()))
      schedulePanelsCPU(f);
    else
      scheduleCPU(f, rvars);
  };
  for (const HalideTensor &stage : stages) {
    if (stage.role == StageRole::Contract && stage.accumulator.defined()) {
      // Without a register tile the accumulator itself is the root stage and
      // the copy is inlined into its consumers.
      scheduled.insert(stage.func.name());
      // Panels that are no stage belong to a recurrence step (LowerContract).
      Func panels = operandOf(stage, "_panels");
      bool stepPanels = panels.defined() && !stageNames.count(panels.name());
      if (!gpu && stepPanels && stage.rank() == 2 && stage.rowAxis == 0) {
        scheduled.insert(panels.name());
        scheduleStepContractCPU(stage, panels);
        continue;
      }
      if (stepPanels) // any other shape: packed at the root, as elsewhere
        apply(panels, {});
      if (gpu)
        scheduleGPU(stage.accumulator);
      else if (stage.dotLanes)
        scheduleDotCPU(stage);
      else if (stage.rowAxis >= 0 && stage.rank() >= 2)
        scheduleContractCPU(stage);
      else
        scheduleCPU(stage.accumulator, stage.reductionVars);
      continue;
    }
    if (stage.role == StageRole::Scatter) {
      scheduled.insert(stage.func.name());
      scheduleScatter(stage.func, gpu);
      continue;
    }
    if (stage.role == StageRole::Attention) {
      scheduled.insert(stage.func.name());
      Func(stage.func).compute_root();
      continue;
    }
    apply(stage.func, stage.reductionVars);
  }
  for (const Func &out : outputs)
    apply(out, {});
}

} // namespace attn
