// The seq2seq example: sequence to sequence without attention, two models.
//
//   seq2seq_app [--model sutskever|cho] [--beam N] [--nbest N] [--max-length N]
//               [--seed N | --weights FILE] [--save FILE] [SENTENCE...]
//
// Each sentence is encoded character by character; the decoder writes an
// output sentence (gibberish until the weights are trained).
#include "seq2seq_cho.h"
#include "seq2seq_sutskever.h"

#include "examples_common.h"

int main(int argc, char **argv) {
  examples::App app;
  app.program = "seq2seq_app";
  app.variants = {
      {"sutskever", "seq2seq_sutskever (Sutskever et al. 2014): 2-layer LSTM encoder "
                    "reading the source backwards, its final states start a 2-layer "
                    "LSTM decoder"},
      {"cho", "seq2seq_cho (Cho et al. 2014): GRU encoder, its final state c starts "
              "the GRU decoder and feeds every step and the output layer"}};
  return examples::run(argc, argv, app, [&](const examples::Options &opts) {
    if (opts.variant == "cho")
      examples::translate<seq2seq_cho::Model>(app, opts);
    else
      examples::translate<seq2seq_sutskever::Model>(app, opts);
  });
}
