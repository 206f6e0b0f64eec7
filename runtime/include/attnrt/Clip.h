// Gradient clipping over a gradient store (see Optim.h: gradientsLike).
//
//   double norm = attnrt::clipGlobalNorm(grads, /*maxNorm=*/1.0);   // before optimizer.step
//
// clipGlobalNorm follows torch.nn.utils.clip_grad_norm_(parameters, max_norm): the L2 norm of all
// gradients together, sqrt(sum over every element of g^2), accumulated in double; if
// maxNorm / (norm + 1e-6) < 1, every element is multiplied by that factor (rounded to float);
// the norm before clipping is returned. Unlike torch's default (error_if_nonfinite=False), a
// NaN or infinite norm is an error: it throws attnrt::Error naming the parameters that hold
// non-finite values, and leaves the gradients unchanged.
//
// All functions expect F32 tensors only (std::invalid_argument names an I32 one) and are
// deterministic: the sum runs in declaration order, element by element.
#ifndef ATTNRT_CLIP_H
#define ATTNRT_CLIP_H

#include "attnrt/ParamStore.h"

namespace attnrt {

/// sqrt(sum of g^2) over every element of every tensor, in double. NaN or +inf if a gradient
/// holds NaN or +-inf (no exception: use it for logging).
double globalNorm(const ParamStore &grads);

/// Scales all gradients so that their global norm is at most about maxNorm and returns the norm
/// before clipping (see the header comment). maxNorm must be finite and > 0
/// (std::invalid_argument); a non-finite norm throws attnrt::Error.
double clipGlobalNorm(ParamStore &grads, double maxNorm);

/// Clamps every element to [-limit, limit] (torch.nn.utils.clip_grad_value_); NaN stays NaN.
/// limit must be >= 0 and not NaN (std::invalid_argument). Returns the number of elements changed.
int64_t clipValue(ParamStore &grads, double limit);

} // namespace attnrt

#endif // ATTNRT_CLIP_H
