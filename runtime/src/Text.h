// Internal helpers for messages and metadata values (not installed, not part of the API).
#ifndef ATTNRT_SRC_TEXT_H
#define ATTNRT_SRC_TEXT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnrt {
namespace detail {

/// "'a', 'b', 'c'", at most `limit` names then "and N more"; "(none)" when empty.
std::string quotedList(const std::vector<std::string> &names, std::size_t limit = 20);

/// Shortest decimal text that reads back as exactly `v` ("0.001", "1e-08", "nan", "inf"),
/// independent of the C locale.
std::string formatDouble(double v);

/// Strict parsers for metadata values: the whole text must be a number (no spaces, no locale).
/// Return false for anything else, including out-of-range values.
bool parseInt64(const std::string &text, int64_t &out);
bool parseUint64(const std::string &text, uint64_t &out);
bool parseDouble(const std::string &text, double &out);

} // namespace detail
} // namespace attnrt

#endif // ATTNRT_SRC_TEXT_H
