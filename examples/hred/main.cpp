// The hred example: a hierarchical recurrent encoder-decoder (Serban et al.
// 2016) that reads a dialogue of exactly three utterances and writes the
// next one.
//
//   hred_app [--beam N] [--nbest N] [--max-length N]
//            [--seed N | --weights FILE] [--save FILE] ["U1|U2|U3"...]
//
// Each argument is one dialogue, its three utterances separated by '|'.
#include "hred.h"

#include "examples_common.h"

#include <stdexcept>

int main(int argc, char **argv) {
  examples::App app;
  app.program = "hred_app";
  app.title = "hred (Serban et al. 2016): GRU utterance encoder, GRU context over 3 "
              "utterances, GRU decoder started from the context";
  app.inputsHelp = "\"U1|U2|U3\"...";
  app.defaultInputs = {"hi!|hello, how are you?|fine, thanks. and you?",
                       "what time is it?|noon|already?",
                       "is it raining?|no, it is sunny outside today.|great"};
  return examples::run(argc, argv, app, [&](const examples::Options &opts) {
    std::vector<std::string> utterances[3];
    for (const std::string &dialogue : opts.inputs) {
      size_t first = dialogue.find('|'), second = dialogue.find('|', first + 1);
      if (first == std::string::npos || second == std::string::npos ||
          dialogue.find('|', second + 1) != std::string::npos)
        throw std::invalid_argument("'" + dialogue + "': a dialogue is three "
                                    "utterances separated by '|', as in \"a|b|c\"");
      utterances[0].push_back(dialogue.substr(0, first));
      utterances[1].push_back(dialogue.substr(first + 1, second - first - 1));
      utterances[2].push_back(dialogue.substr(second + 1));
    }
    hred::Model model(opts.seed);
    examples::prepare(app, opts, model.params(), model.vocabularySize());
    examples::Batch u1 = examples::makeBatch(utterances[0]);
    examples::Batch u2 = examples::makeBatch(utterances[1]);
    examples::Batch u3 = examples::makeBatch(utterances[2]);
    examples::printResults(opts.inputs,
                           model.decode(u1.ids, u2.ids, u3.ids, u1.lengths,
                                        u2.lengths, u3.lengths, opts.decode));
    examples::finish(opts, model.params());
  });
}
