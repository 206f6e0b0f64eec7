#include "Text.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <locale>
#include <sstream>

namespace attnrt {
namespace detail {

std::string quotedList(const std::vector<std::string> &names, std::size_t limit) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i)
    s += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > limit)
    s += " and " + std::to_string(names.size() - limit) + " more";
  return s.empty() ? "(none)" : s;
}

std::string formatDouble(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  // The shortest of %.1g ... %.17g that reads back exactly.
  for (int precision = 1; precision <= 17; ++precision) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(precision);
    out << v;
    double back;
    if (parseDouble(out.str(), back) && back == v)
      return out.str();
  }
  std::ostringstream out; // not reached: 17 significant digits always round-trip
  out.imbue(std::locale::classic());
  out.precision(17);
  out << v;
  return out.str();
}

bool parseInt64(const std::string &text, int64_t &out) {
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  long long v;
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) || !(in >> v) ||
      in.peek() != std::char_traits<char>::eof())
    return false;
  out = v;
  return true;
}

bool parseUint64(const std::string &text, uint64_t &out) {
  if (text.empty() || text[0] < '0' || text[0] > '9')
    return false; // istream would accept "-1" as a huge unsigned value
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  unsigned long long v;
  if (!(in >> v) || in.peek() != std::char_traits<char>::eof())
    return false;
  out = v;
  return true;
}

bool parseDouble(const std::string &text, double &out) {
  if (text == "nan" || text == "inf" || text == "-inf") {
    out = text == "nan" ? std::nan("") : text == "inf" ? HUGE_VAL : -HUGE_VAL;
    return true;
  }
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])))
    return false;
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  double v;
  if (!(in >> v) || in.peek() != std::char_traits<char>::eof())
    return false;
  out = v;
  return true;
}

} // namespace detail
} // namespace attnrt
