// Training checkpoints: parameters, optimiser state and training metadata in ONE safetensors file.
//
//   attnrt::CheckpointInfo info;
//   info.step = 1200; info.epoch = 3; info.seed = 42; info.user["dev_bleu"] = "25.3";
//   attnrt::saveCheckpoint("run/ckpt.safetensors", params, &adam, info);
//   ...
//   attnrt::CheckpointInfo back = attnrt::loadCheckpoint("run/ckpt.safetensors", params, &adam);
//
// Layout of the file:
//   - every parameter under its own name, in declaration order, so the file is also a plain
//     state dict (safetensors.torch.load_file, or ParamStore::load with allowUnexpected);
//   - the optimiser's tensors under "<optimizer>.<slot>.<parameter>" (Optim.h), e.g. "adam.m.Wq";
//   - metadata: "attnrt.checkpoint" = "1" (the format version), "step", "epoch", "seed",
//     "user.<key>" for each user key, the optimiser's keys ("optimizer", "optimizer.step",
//     "optimizer.lr", ...), and "attnrt.checksum": a 64-bit hash of all metadata and tensors
//     (names, dtypes, shapes, bytes), so that damage anywhere in the file is detected on load.
//
// Saving goes through writeSafetensors, like ParamStore::save: the file is written to
// "<path>.tmp.<pid>" in the same folder, fsync'ed and renamed over `path`, so a failure or a
// crash during the save never damages the previous checkpoint at `path`.
//
// Loading checks everything before it changes anything: a missing, truncated or damaged file
// (checksum mismatch), missing, unexpected or wrong-shape parameters, missing or wrong-shape
// optimiser state, state of another optimiser, or bad metadata all throw attnrt::Error naming
// the file and the problems, and leave the parameters and the optimiser as they were.
//
// Resuming (load into freshly built objects, then continue) reproduces an uninterrupted run bit
// for bit: the parameters, the moments, the step count and the learning rate are restored
// exactly (test/runtime/CheckpointTest.cpp checks it).
#ifndef ATTNRT_CHECKPOINT_H
#define ATTNRT_CHECKPOINT_H

#include "attnrt/Optim.h"
#include "attnrt/ParamStore.h"
#include "attnrt/Safetensors.h"

#include <cstdint>
#include <string>

namespace attnrt {

struct CheckpointInfo {
  int64_t step = 0;  ///< training steps done (the loop's count; may differ from the optimiser's)
  int64_t epoch = 0; ///< epochs done, or the current epoch: the caller's convention
  uint64_t seed = 0; ///< the run's random seed (batch order, initialisation, dropout, ...)
  Metadata user;     ///< free-form key/values (stored as "user.<key>")
};

/// Writes `params`, the state of `optimizer` (nullptr: none) and `info` to `path` atomically.
/// Throws std::invalid_argument if a parameter name starts with "<optimizer name>." (it would
/// be read back as optimiser state), attnrt::Error if the file cannot be written (the previous
/// file at `path`, if any, is then unchanged).
void saveCheckpoint(const std::string &path, const ParamStore &params,
                    const Optimizer *optimizer, const CheckpointInfo &info = {});

/// Reads a checkpoint written by saveCheckpoint into `params` and `optimizer` and returns its
/// info. With optimizer == nullptr the file's optimiser state is ignored (e.g. to evaluate a
/// model); with an optimizer, the file must hold that optimiser's state. See the header comment
/// for the checks; on any failure nothing changes.
CheckpointInfo loadCheckpoint(const std::string &path, ParamStore &params, Optimizer *optimizer);

} // namespace attnrt

#endif // ATTNRT_CHECKPOINT_H
