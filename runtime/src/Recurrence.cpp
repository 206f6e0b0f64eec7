// The host time loop around a compiled recurrence step (see Recurrence.h).
#include "attnrt/Recurrence.h"

#include "attnrt/Error.h"

#include <stdexcept>
#include <string>

namespace attnrt {

SliceView::SliceView(const Tensor &t, int axis, int64_t index) {
  const halide_buffer_t *whole = t.buffer();
  int rank = whole->dimensions;
  int halideDim = rank - 1 - axis; // Halide lists dimensions innermost first
  buf_ = *whole;
  buf_.host = whole->host + index * whole->dim[halideDim].stride *
                                (whole->type.bits / 8);
  buf_.device = 0;
  buf_.device_interface = nullptr;
  for (int d = 0; d < rank; ++d)
    if (d != halideDim)
      dims_.push_back(whole->dim[d]);
  buf_.dimensions = rank - 1;
  buf_.dim = dims_.data();
}

void runRecurrence(const char *name, StepKernelArgv step,
                   const RecurrenceArgs &args) {
  if (args.results.empty() || args.results.size() != args.inits.size())
    throw std::invalid_argument(std::string(name) + ": " +
                                std::to_string(args.results.size()) +
                                " results for " +
                                std::to_string(args.inits.size()) + " states");
  int64_t steps = args.results[0]->dim(args.timeAxis);
  for (const Tensor *s : args.sequences)
    if (s->dim(args.timeAxis) != steps)
      throw std::invalid_argument(
          std::string(name) + ": a sequence has " +
          std::to_string(s->dim(args.timeAxis)) + " steps, expected " +
          std::to_string(steps));

  int32_t t = 0;
  for (int64_t i = 0; i < steps; ++i) {
    t = static_cast<int32_t>(args.reverse ? steps - 1 - i : i);
    int32_t previous = args.reverse ? t + 1 : t - 1;
    std::vector<SliceView> views;
    views.reserve(args.sequences.size() + 2 * args.results.size());
    std::vector<void *> argv;
    for (const Tensor *s : args.sequences) {
      views.emplace_back(*s, args.timeAxis, t);
      argv.push_back(views.back().buffer());
    }
    for (size_t k = 0; k < args.results.size(); ++k) {
      if (i == 0) {
        argv.push_back(args.inits[k]->buffer());
      } else {
        views.emplace_back(*args.results[k], args.timeAxis, previous);
        argv.push_back(views.back().buffer());
      }
    }
    for (const Tensor *c : args.captured)
      argv.push_back(c->buffer());
    argv.push_back(args.lengths->buffer());
    argv.push_back(&t);
    for (Tensor *r : args.results) {
      views.emplace_back(*r, args.timeAxis, t);
      argv.push_back(views.back().buffer());
    }
    int status = step(argv.data());
    if (status != 0)
      throw Error(std::string(name) + ": step " + std::to_string(t) +
                  " failed with Halide error " + std::to_string(status));
  }
}

} // namespace attnrt
