// The transformer_encoder example: initialise (or load) the weights of the
// compiled encoder layer, run it on a padded batch, and print the output.
//
//   transformer_encoder_app [--weights FILE] [--save FILE] [--seed N]
//                           [--lengths 5,3,8]
//
// The batch holds one sequence per length, padded to the longest; the input
// vectors are deterministic (sin/cos features), so runs are reproducible.
#include "transformer_encoder.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

namespace {

struct Options {
  std::string weights, save;
  uint64_t seed = 1;
  std::vector<int32_t> lengths{7, 3, 5};
};

[[noreturn]] void usage(const char *error) {
  std::cerr << "error: " << error << "\n"
            << "usage: transformer_encoder_app [--weights FILE] [--save FILE] "
               "[--seed N] [--lengths 7,3,5]\n";
  std::exit(2);
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage((arg + " needs a value").c_str());
      return argv[++i];
    };
    if (arg == "--weights")
      o.weights = value();
    else if (arg == "--save")
      o.save = value();
    else if (arg == "--seed")
      o.seed = std::strtoull(value().c_str(), nullptr, 10);
    else if (arg == "--lengths") {
      o.lengths.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');)
        o.lengths.push_back(std::atoi(item.c_str()));
      if (o.lengths.empty())
        usage("--lengths needs at least one length");
    } else
      usage(("unknown option " + arg).c_str());
  }
  return o;
}

} // namespace

int main(int argc, char **argv) {
  Options opts = parse(argc, argv);
  try {
    transformer_encoder::Model model(opts.seed);
    if (!opts.weights.empty()) {
      model.load(opts.weights);
      std::cout << "loaded weights from " << opts.weights << "\n";
    } else {
      std::cout << "initialised " << model.params().size() << " parameters ("
                << model.params().numel() << " values) from seed " << opts.seed
                << "\n";
    }

    int64_t batch = static_cast<int64_t>(opts.lengths.size());
    int64_t padded = 0;
    for (int32_t len : opts.lengths)
      padded = std::max<int64_t>(padded, len);
    const int64_t dim = model.Wo().dim(0);
    attnrt::Tensor x(attnrt::DType::F32, {batch, padded, dim});
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t s = 0; s < opts.lengths[b]; ++s)
        for (int64_t d = 0; d < dim; ++d)
          x.at({b, s, d}) = static_cast<float>(
              d % 2 ? std::cos((s + 1) * (b + 1) * 0.1 * (d + 1) / dim)
                    : std::sin((s + 1) * (b + 1) * 0.1 * (d + 1) / dim));

    auto out = model.forward(x, opts.lengths);
    std::cout << "y: " << out.y.shapeString() << " (batch, padded length, D)\n";
    for (int64_t b = 0; b < batch; ++b) {
      std::printf("sequence %lld (length %d):\n", static_cast<long long>(b),
                  opts.lengths[b]);
      for (int64_t s = 0; s < padded; ++s) {
        double norm = 0;
        for (int64_t d = 0; d < dim; ++d)
          norm += out.y.at({b, s, d}) * out.y.at({b, s, d});
        std::printf("  y[%lld] = [% .4f % .4f % .4f % .4f ...]  |y| = %.4f%s\n",
                    static_cast<long long>(s), out.y.at({b, s, 0}),
                    out.y.at({b, s, 1}), out.y.at({b, s, 2}),
                    out.y.at({b, s, 3}), std::sqrt(norm),
                    s >= opts.lengths[b] ? "  (padding)" : "");
      }
    }
    if (!opts.save.empty()) {
      model.save(opts.save);
      std::cout << "saved weights to " << opts.save << "\n";
    }
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
