#include "DateData.h"

#include "examples_common.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <set>
#include <stdexcept>

namespace dates {

namespace {

const char *const kMonthNames[12] = {"January", "February", "March",     "April",
                                     "May",     "June",     "July",      "August",
                                     "September", "October", "November", "December"};
const char *const kWeekdayNames[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                      "Friday", "Saturday", "Sunday"};

/// The pattern of each Format, in declaration order (see DateData.h).
const char *const kPatterns[kFormatCount] = {
    "d MMMM yyyy",       "dd/mm/yy",         "d/m/yyyy",        "dd/mm/yyyy",
    "EEEE, MMMM do yyyy", "EEE d MMM yyyy",  "MMMM d, yyyy",    "yyyy.mm.dd",
    "do of MMMM, yyyy",  "MMM d yyyy",       "dd-MMM-yyyy",     "yyyymmdd",
    "d.m.yyyy",          "dd.mm.yy",         "d-m-yy",          "EEEE d MMMM yyyy",
    "EEE, d MMM yyyy",   "d MMM 'yy",        "do MMMM yyyy",    "MMMM do, yyyy",
    "EEEE the do of MMMM yyyy", "EEE MMM dd yyyy", "yyyy/mm/dd", "yyyy-m-d",
    "dd MMM yyyy",       "yyyy-mm-dd",
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Uniform in [0, n) from 64-bit draws, by rejection: std:: distributions
/// differ between standard libraries, std::mt19937_64's output does not.
uint64_t uniformBelow(std::mt19937_64 &rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n; // multiple of n
  uint64_t x;
  do
    x = rng();
  while (x >= limit);
  return x % n;
}

std::string twoDigits(int v) {
  return std::string(1, static_cast<char>('0' + v / 10 % 10)) +
         static_cast<char>('0' + v % 10);
}

bool startsWith(const std::string &s, size_t at, const char *prefix) {
  return s.compare(at, std::char_traits<char>::length(prefix), prefix) == 0;
}

void checkFormat(Format f) {
  int i = static_cast<int>(f);
  if (i < 0 || i >= kFormatCount)
    throw std::invalid_argument("dates: format " + std::to_string(i) + " is not one of the " +
                                std::to_string(kFormatCount) + " formats");
}

} // namespace

// ---- calendar ----

bool isLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int daysInMonth(int year, int month) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12)
    return 0;
  return month == 2 && isLeapYear(year) ? 29 : days[month - 1];
}

bool isValid(const Date &d) {
  return d.year >= kFirstYear && d.year <= kLastYear && d.month >= 1 && d.month <= 12 &&
         d.day >= 1 && d.day <= daysInMonth(d.year, d.month);
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t daysSinceEpoch(const Date &d) {
  const int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date dateFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  Date d;
  d.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  d.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  d.year = static_cast<int>(yoe + era * 400 + (d.month <= 2 ? 1 : 0));
  return d;
}

int weekday(const Date &d) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return static_cast<int>(((daysSinceEpoch(d) + 3) % 7 + 7) % 7);
}

std::string isoText(const Date &d) {
  return std::to_string(d.year) + "-" + twoDigits(d.month) + "-" + twoDigits(d.day);
}

std::optional<Date> parseIso(const std::string &text) {
  if (text.size() != kTargetLength || text[4] != '-' || text[7] != '-')
    return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(text[i])))
      return std::nullopt;
  Date d;
  d.year = std::stoi(text.substr(0, 4));
  d.month = std::stoi(text.substr(5, 2));
  d.day = std::stoi(text.substr(8, 2));
  if (!isValid(d))
    return std::nullopt;
  return d;
}

const std::vector<Date> &allDates() {
  static const std::vector<Date> dates = [] {
    std::vector<Date> v;
    const int64_t first = daysSinceEpoch({kFirstYear, 1, 1});
    const int64_t last = daysSinceEpoch({kLastYear, 12, 31});
    for (int64_t day = first; day <= last; ++day)
      v.push_back(dateFromDays(day));
    return v;
  }();
  return dates;
}

// ---- formats ----

std::vector<Format> allFormats() {
  std::vector<Format> v;
  for (int i = 0; i < kFormatCount; ++i)
    v.push_back(static_cast<Format>(i));
  return v;
}

std::string formatPattern(Format f) {
  checkFormat(f);
  return kPatterns[static_cast<int>(f)];
}

bool hasWords(Format f) {
  const std::string p = formatPattern(f);
  return p.find("MMM") != std::string::npos || p.find("EEE") != std::string::npos;
}

std::string ordinal(int day) {
  const char *suffix = "th";
  if (day % 100 < 11 || day % 100 > 13) {
    switch (day % 10) {
    case 1: suffix = "st"; break;
    case 2: suffix = "nd"; break;
    case 3: suffix = "rd"; break;
    default: break;
    }
  }
  return std::to_string(day) + suffix;
}

std::string render(const Date &d, Format f, LetterCase c) {
  checkFormat(f);
  if (!isValid(d))
    throw std::invalid_argument("dates::render: " + std::to_string(d.year) + "-" +
                                std::to_string(d.month) + "-" + std::to_string(d.day) +
                                " is not a valid date in " + std::to_string(kFirstYear) +
                                ".." + std::to_string(kLastYear));
  const std::string p = kPatterns[static_cast<int>(f)];
  const char *month = kMonthNames[d.month - 1], *day = kWeekdayNames[weekday(d)];
  std::string out;
  out.reserve(40);
  for (size_t i = 0; i < p.size();) {
    // Longest token first; anything else is copied as it is.
    if (startsWith(p, i, "yyyy")) out += std::to_string(d.year), i += 4;
    else if (startsWith(p, i, "yy")) out += twoDigits(d.year % 100), i += 2;
    else if (startsWith(p, i, "MMMM")) out += month, i += 4;
    else if (startsWith(p, i, "MMM")) out.append(month, 3), i += 3;
    else if (startsWith(p, i, "EEEE")) out += day, i += 4;
    else if (startsWith(p, i, "EEE")) out.append(day, 3), i += 3;
    else if (startsWith(p, i, "mm")) out += twoDigits(d.month), i += 2;
    else if (startsWith(p, i, "m")) out += std::to_string(d.month), i += 1;
    else if (startsWith(p, i, "dd")) out += twoDigits(d.day), i += 2;
    else if (startsWith(p, i, "do")) out += ordinal(d.day), i += 2;
    else if (startsWith(p, i, "d")) out += std::to_string(d.day), i += 1;
    else out += p[i++];
  }
  for (char &ch : out) {
    if (c == LetterCase::Lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    else if (c == LetterCase::Upper)
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return out;
}

// ---- splits ----

Split splitOf(const Date &d) {
  const uint64_t key = static_cast<uint64_t>(d.year) * 10000 + d.month * 100 + d.day;
  return splitmix64(key ^ 0xda7e5eedda7e5eedULL) % 100 < kHeldOutPercent ? Split::HeldOut
                                                                          : Split::Train;
}

const std::vector<Date> &datesOf(Split split) {
  static const std::vector<Date> train = [] {
    std::vector<Date> v;
    for (const Date &d : allDates())
      if (splitOf(d) == Split::Train)
        v.push_back(d);
    return v;
  }();
  static const std::vector<Date> heldOut = [] {
    std::vector<Date> v;
    for (const Date &d : allDates())
      if (splitOf(d) == Split::HeldOut)
        v.push_back(d);
    return v;
  }();
  return split == Split::Train ? train : heldOut;
}

const char *splitName(Split split) { return split == Split::Train ? "train" : "held-out"; }

// ---- generation ----

std::vector<DateSample> generateSamples(uint64_t seed, size_t count, Split split,
                                        const GenerateOptions &options) {
  std::vector<Format> formats = options.formats.empty() ? allFormats() : options.formats;
  for (Format f : formats)
    checkFormat(f);
  const std::vector<Date> &pool = datesOf(split);
  // Train and held-out draws of one seed are independent streams.
  std::mt19937_64 rng(splitmix64(splitmix64(seed) ^ (split == Split::Train ? 0x747261696eULL
                                                                            : 0x68656c64ULL)));
  std::vector<DateSample> samples;
  samples.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    DateSample s;
    s.date = pool[uniformBelow(rng, pool.size())];
    s.format = formats[uniformBelow(rng, formats.size())];
    const uint64_t caseDraw = uniformBelow(rng, 4); // drawn always: one stream layout
    if (options.caseVariants && hasWords(s.format))
      s.letterCase = caseDraw < 2 ? LetterCase::Title
                                  : caseDraw == 2 ? LetterCase::Lower : LetterCase::Upper;
    s.pair.source = render(s.date, s.format, s.letterCase);
    s.pair.target = isoText(s.date);
    samples.push_back(std::move(s));
  }
  return samples;
}

std::vector<DatePair> generateDates(uint64_t seed, size_t count, Split split,
                                    const GenerateOptions &options) {
  std::vector<DatePair> pairs;
  pairs.reserve(count);
  for (DateSample &s : generateSamples(seed, count, split, options))
    pairs.push_back(std::move(s.pair));
  return pairs;
}

// ---- characters and lengths ----

std::vector<int32_t> encodeChars(const std::string &text, bool appendEos) {
  std::vector<int32_t> ids;
  ids.reserve(text.size() + 1);
  for (char c : text)
    ids.push_back(examples::charId(c));
  if (appendEos)
    ids.push_back(examples::EOS);
  return ids;
}

std::string decodeChars(const std::vector<int32_t> &ids) { return examples::tokensText(ids); }

namespace {

/// Every date in every format, in title case: the characters and the longest
/// source (case changes neither the length nor, up to case, the letters).
struct SourceSurvey {
  std::string characters;
  size_t maxLength = 0;
};

const SourceSurvey &survey() {
  static const SourceSurvey s = [] {
    std::set<char> chars;
    SourceSurvey out;
    for (const Date &d : allDates())
      for (Format f : allFormats()) {
        std::string text = render(d, f);
        out.maxLength = std::max(out.maxLength, text.size());
        for (char c : text) {
          chars.insert(c);
          chars.insert(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
          chars.insert(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        }
      }
    out.characters.assign(chars.begin(), chars.end());
    return out;
  }();
  return s;
}

} // namespace

std::string sourceCharacters() { return survey().characters; }

std::string targetCharacters() { return "-0123456789"; }

size_t maxSourceLength() { return survey().maxLength; }

LengthStats lengthStats(const std::vector<DatePair> &pairs) {
  LengthStats s;
  s.count = pairs.size();
  if (pairs.empty())
    return s;
  s.minSource = pairs[0].source.size();
  double total = 0;
  for (const DatePair &p : pairs) {
    s.minSource = std::min(s.minSource, p.source.size());
    s.maxSource = std::max(s.maxSource, p.source.size());
    total += static_cast<double>(p.source.size());
  }
  s.meanSource = total / static_cast<double>(pairs.size());
  return s;
}

} // namespace dates
