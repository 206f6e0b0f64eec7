// The luong example: global attention (Luong et al. 2015) with the dot,
// general and concat scores, input feeding, attentional vectors.
//
//   luong_app [--model dot|general|concat] [--beam N] [--nbest N]
//             [--max-length N] [--seed N | --weights FILE] [--save FILE]
//             [SENTENCE...]
//
// Each sentence is encoded character by character; the decoder writes an
// output sentence (gibberish until the weights are trained) and the app
// draws where each output character attended in the source.
#include "luong_concat.h"
#include "luong_dot.h"
#include "luong_general.h"

#include "examples_common.h"

int main(int argc, char **argv) {
  examples::App app;
  app.program = "luong_app";
  const std::string common =
      "; LSTM encoder and decoder, input feeding, h~ = tanh(Wc [c; h])";
  app.variants = {
      {"dot", "luong_dot (Luong et al. 2015): score h_t . h_s" + common},
      {"general", "luong_general (Luong et al. 2015): score h_t Wa h_s" + common},
      {"concat", "luong_concat (Luong et al. 2015): score va . tanh(Wa [h_t; h_s])" +
                     common}};
  return examples::run(argc, argv, app, [&](const examples::Options &opts) {
    if (opts.variant == "general")
      examples::translate<luong_general::Model>(app, opts);
    else if (opts.variant == "concat")
      examples::translate<luong_concat::Model>(app, opts);
    else
      examples::translate<luong_dot::Model>(app, opts);
  });
}
