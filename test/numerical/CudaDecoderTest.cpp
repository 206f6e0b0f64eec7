// models/bahdanau.attn compiled with --target=host-cuda: encode + step on the
// GPU against the double-precision reference, and beam search over the GPU
// step re-scored by the reference. Skips where no CUDA driver can be loaded.
#include "BahdanauReference.h"
#include "CudaDriver.h"

#include "bahdanau_cuda.h"

#include <gtest/gtest.h>

namespace {

using namespace bahdanau_ref;

TEST(CudaDecoder, StepAndBeamSearchMatchReference) {
  if (!cudaDriverPresent())
    GTEST_SKIP() << "[SKIP] no CUDA driver on this machine";
  bahdanau_cuda::Model model(1);
  randomize(model, 7);
  model.bo().at({2}) -= 1.5f;
  Batch batch;
  attnrt::DecoderMemory memory = model.encode(batch.src(), batch.lengths());
  std::vector<int32_t> rows{2, 0, 2, 1, 3}, tokens{4, 0, 22, 9, 1};
  attnrt::Tensor state(attnrt::DType::F32, {5, H});
  for (int64_t i = 0; i < state.numel(); ++i)
    state.data<float>()[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  attnrt::StepOutputs out;
  model.step(memory, attnrt::Tensor::fromVector<int32_t>({5}, rows),
             attnrt::Tensor::fromVector<int32_t>({5}, tokens), {state}, out);
  for (int64_t n = 0; n < 5; ++n) {
    Reference<bahdanau_cuda::Model> r(model, batch.sentences[rows[n]]);
    ref::Vec s(state.data<float>() + n * H, state.data<float>() + (n + 1) * H);
    StepResult want = r.step(tokens[n], s);
    for (int64_t v = 0; v < V; ++v)
      ASSERT_NEAR(out.logits.at({n, v}), want.logits[v], 1e-4) << n << ", " << v;
    for (size_t i = 0; i < want.attention.size(); ++i)
      ASSERT_NEAR(out.attention.at({n, static_cast<int64_t>(i)}), want.attention[i], 1e-4);
  }
  attnrt::DecodeOptions options;
  options.beamSize = options.nBest = 3;
  options.maxLength = 8;
  auto result = attnrt::decode(model, memory, options);
  for (size_t b = 0; b < result.size(); ++b) {
    Reference<bahdanau_cuda::Model> r(model, batch.sentences[b]);
    for (const attnrt::Hypothesis &hyp : result[b]) {
      ref::Mat attention;
      EXPECT_NEAR(hyp.logProb, r.score(hyp.tokens, options.bos, attention), 1e-3);
    }
  }
}

} // namespace
