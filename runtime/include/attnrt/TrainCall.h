// Helpers of the generated training entries (Model::loss / Model::gradient).
#ifndef ATTNRT_TRAINCALL_H
#define ATTNRT_TRAINCALL_H

#include "attnrt/ParamStore.h"
#include "attnrt/Tensor.h"

#include <cstdint>
#include <string>

namespace attnrt {

/// The tokens a teacher-forced decoder reads: int32 [B, T] with step t
/// reading `bos` at t = 0 and target[b][t - 1] after (the target shifted
/// right by one).
Tensor teacherTokens(const Tensor &target, int32_t bos);

/// `grads` must hold exactly the parameters of `params` (F32, same shapes),
/// as Model::gradients() makes it; throws std::invalid_argument naming the
/// first parameter that differs.
void checkGradientStore(const std::string &where, const ParamStore &params,
                        const ParamStore &grads);

} // namespace attnrt

#endif // ATTNRT_TRAINCALL_H
