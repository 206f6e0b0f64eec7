// attnrt error types.
//
// attnrt reports two kinds of problems:
//  - attnrt::Error (a std::runtime_error): I/O and file-format problems, e.g. a checkpoint that is
//    missing, truncated or does not match the model. The message names the file.
//  - std::invalid_argument / std::out_of_range: a caller passed wrong sizes, shapes, dtypes or
//    names. The message states the actual and the expected value.
#ifndef ATTNRT_ERROR_H
#define ATTNRT_ERROR_H

#include <stdexcept>

namespace attnrt {

class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace attnrt

#endif // ATTNRT_ERROR_H
