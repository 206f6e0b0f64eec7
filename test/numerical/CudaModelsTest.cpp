// The multi-head model compiled with --target=host-cuda, checked against the
// plain C++ reference on a GPU. Skips (GTEST_SKIP) where no CUDA driver can
// be loaded, e.g. on CI.
#include "CudaDriver.h"
#include "Reference.h"

#include "mha_cuda.h"

#include <gtest/gtest.h>

#include <random>

namespace {

TEST(CudaModels, MultiheadMatchesReference) {
  if (!cudaDriverPresent())
    GTEST_SKIP() << "[SKIP] no CUDA driver on this machine";
  mha_cuda::Model model(11);
  std::vector<int32_t> lengths{37, 1, 20};
  attnrt::Tensor x(attnrt::DType::F32, {3, 37, 32});
  std::mt19937 gen(6);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = dist(gen);
  auto out = model.forward(x, lengths);
  ref::Mat wo = ref::matrix(model.Wo());
  for (int64_t b = 0; b < 3; ++b) {
    ref::Mat y = ref::multihead(ref::rows(x, b, 37), model.Wq(), model.Wk(),
                                model.Wv(), wo, lengths[b], false, false);
    for (int64_t i = 0; i < 37; ++i)
      for (int64_t d = 0; d < 32; ++d)
        ASSERT_NEAR(out.y.at({b, i, d}), i < lengths[b] ? y[i][d] : 0.0, 1e-4)
            << "at [" << b << ", " << i << ", " << d << "]";
  }
}

} // namespace
