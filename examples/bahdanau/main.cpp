// The bahdanau example: attention-based translation (Bahdanau et al. 2015).
//
//   bahdanau_app [--beam N] [--nbest N] [--max-length N]
//                [--seed N | --weights FILE] [--save FILE] [SENTENCE...]
//
// Each sentence is encoded character by character; the decoder writes an
// output sentence (gibberish until the weights are trained) and the app
// draws where each output character attended in the source.
#include "bahdanau.h"

#include "examples_common.h"

int main(int argc, char **argv) {
  examples::App app;
  app.program = "bahdanau_app";
  app.title = "bahdanau (Bahdanau et al. 2015): bidirectional GRU encoder, additive "
              "attention, GRU decoder fed with the context, maxout output layer";
  return examples::run(argc, argv, app, [&](const examples::Options &opts) {
    examples::translate<bahdanau::Model>(app, opts);
  });
}
