// safetensors files (https://github.com/huggingface/safetensors), the checkpoint format shared with
// PyTorch / Hugging Face:
//
//   8 bytes    little-endian u64 N
//   N bytes    JSON header: { "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
//                             ..., "__metadata__": {"key": "value", ...} (optional) }
//   the data   tensors back to back, little-endian, row-major; [b, e) is relative to the data
//
//   attnrt::writeSafetensors("ckpt.safetensors", {{"W", w}, {"b", b}}, {{"step", "1000"}});
//   auto tensors = attnrt::readSafetensors("ckpt.safetensors");   // std::map name -> Tensor
//
// In Python: safetensors.torch.load_file("ckpt.safetensors") / save_file(tensors, path).
// attnrt reads and writes F32 and I32 tensors; other dtypes (F16, BF16, F64, I64, ...) are
// rejected with an attnrt::Error naming the tensor and its dtype.
#ifndef ATTNRT_SAFETENSORS_H
#define ATTNRT_SAFETENSORS_H

#include "attnrt/Tensor.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace attnrt {

/// The optional "__metadata__" string map of a safetensors header.
using Metadata = std::map<std::string, std::string>;

/// Reads every tensor of a safetensors file, and its metadata if `metadata` is not null.
/// Throws attnrt::Error naming the file and the problem for every malformed input (missing file,
/// truncated file, bad header length, invalid JSON, missing or mistyped keys, unsupported dtype,
/// shape and byte size that disagree, offsets out of range, overlapping or leaving gaps, bytes
/// after the last tensor). Checks everything before allocating tensor storage, so a corrupt
/// header cannot cause an allocation larger than the file.
std::map<std::string, Tensor> readSafetensors(const std::string &path,
                                              Metadata *metadata = nullptr);

/// Writes `tensors` (data in map order) atomically: into "<path>.tmp.<pid>" in the same folder,
/// flushed and fsync'ed, then renamed over `path`. On any failure the temporary file is removed,
/// an attnrt::Error naming the path is thrown, and an existing file at `path` is left unchanged.
/// Names must be non-empty and not "__metadata__" (std::invalid_argument).
void writeSafetensors(const std::string &path, const std::map<std::string, Tensor> &tensors,
                      const Metadata &metadata = {});

/// The same, without copying tensors into a map: data in the order given. Pointers must not be
/// null; names must be unique.
void writeSafetensors(const std::string &path,
                      const std::vector<std::pair<std::string, const Tensor *>> &tensors,
                      const Metadata &metadata = {});

} // namespace attnrt

#endif // ATTNRT_SAFETENSORS_H
