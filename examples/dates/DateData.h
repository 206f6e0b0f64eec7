// The date-normalisation data set: human-written dates ("Sunday, March 3rd
// 2019", "03/03/19", "20190303", ...) paired with their ISO 8601 form
// ("2019-03-03"), for training character-level attention models.
//
// Everything is deterministic: a seed gives the same pairs on every platform.
// Dates run from 1950-01-01 to 2049-12-31. Each calendar date belongs to
// exactly one split (train or held-out) by a fixed hash of the date, so no
// held-out date ever appears in the training data, in any format.
//
// Numeric day/month formats are always DAY FIRST (European: 03/04/19 is
// 3 April 2019), and two-digit years mean 1950..2049 (50..99 -> 19xx,
// 00..49 -> 20xx): every source string has exactly one target.
#ifndef ATTN_EXAMPLES_DATES_DATEDATA_H
#define ATTN_EXAMPLES_DATES_DATEDATA_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dates {

// ---- calendar ----
constexpr int kFirstYear = 1950, kLastYear = 2049;

struct Date {
  int year = 2000, month = 1, day = 1; ///< month 1..12, day 1..31
  bool operator==(const Date &o) const {
    return year == o.year && month == o.month && day == o.day;
  }
  bool operator!=(const Date &o) const { return !(*this == o); }
};

bool isLeapYear(int year);
int daysInMonth(int year, int month);
/// A real date of the proleptic Gregorian calendar in kFirstYear..kLastYear.
bool isValid(const Date &d);
/// Days since 1970-01-01 (negative before it).
int64_t daysSinceEpoch(const Date &d);
/// The date `days` after 1970-01-01.
Date dateFromDays(int64_t days);
/// 0 = Monday .. 6 = Sunday (ISO 8601 order).
int weekday(const Date &d);
/// "2019-03-03".
std::string isoText(const Date &d);
/// Parses exactly "YYYY-MM-DD" (two-digit month and day); nullopt unless the
/// text has that shape and names a valid date in kFirstYear..kLastYear.
std::optional<Date> parseIso(const std::string &text);
/// Every valid date, oldest first (36525 of them).
const std::vector<Date> &allDates();

// ---- formats ----
/// How a date is written. Patterns: d = day, dd = two-digit day, do = ordinal
/// day (3rd), m / mm = month number, MMM = month abbreviation (Mar), MMMM =
/// month name, EEE / EEEE = weekday abbreviation / name, yy / yyyy = year.
enum class Format {
  DayMonthNameYear,           ///< d MMMM yyyy                3 March 2019
  DaySlashMonthSlashYY,       ///< dd/mm/yy                   03/03/19
  DSlashMSlashYear,           ///< d/m/yyyy                   3/3/2019
  DaySlashMonthSlashYear,     ///< dd/mm/yyyy                 03/03/2019
  WeekdayMonthOrdinalYear,    ///< EEEE, MMMM do yyyy         Sunday, March 3rd 2019
  WeekdayAbbrDayMonAbbrYear,  ///< EEE d MMM yyyy             Sun 3 Mar 2019
  MonthNameDayCommaYear,      ///< MMMM d, yyyy               March 3, 2019
  YearDotMonthDotDay,         ///< yyyy.mm.dd                 2019.03.03
  OrdinalOfMonthCommaYear,    ///< do of MMMM, yyyy           3rd of March, 2019
  MonAbbrDayYear,             ///< MMM d yyyy                 Mar 3 2019
  DayDashMonAbbrDashYear,     ///< dd-MMM-yyyy                03-Mar-2019
  Compact,                    ///< yyyymmdd                   20190303
  DDotMDotYear,               ///< d.m.yyyy                   3.3.2019
  DayDotMonthDotYY,           ///< dd.mm.yy                   03.03.19
  DDashMDashYY,               ///< d-m-yy                     3-3-19
  WeekdayDayMonthNameYear,    ///< EEEE d MMMM yyyy           Sunday 3 March 2019
  WeekdayAbbrCommaDayMonYear, ///< EEE, d MMM yyyy            Sun, 3 Mar 2019
  DayMonAbbrApostropheYY,     ///< d MMM 'yy                  3 Mar '19
  OrdinalMonthNameYear,       ///< do MMMM yyyy               3rd March 2019
  MonthNameOrdinalCommaYear,  ///< MMMM do, yyyy              March 3rd, 2019
  WeekdayTheOrdinalOfMonth,   ///< EEEE the do of MMMM yyyy   Sunday the 3rd of March 2019
  WeekdayAbbrMonAbbrDDYear,   ///< EEE MMM dd yyyy            Sun Mar 03 2019
  YearSlashMonthSlashDay,     ///< yyyy/mm/dd                 2019/03/03
  YearDashMDashD,             ///< yyyy-m-d                   2019-3-3
  DayMonAbbrYear,             ///< dd MMM yyyy                03 Mar 2019
  Iso,                        ///< yyyy-mm-dd                 2019-03-03
};
constexpr int kFormatCount = static_cast<int>(Format::Iso) + 1;

/// Every format, in declaration order.
std::vector<Format> allFormats();
/// The format's pattern, e.g. "EEEE, MMMM do yyyy".
std::string formatPattern(Format f);
/// Whether the format writes words (month or weekday names), which have case variants.
bool hasWords(Format f);

/// How the words of a date are capitalised; numeric formats ignore it.
enum class LetterCase {
  Title, ///< Sunday, March 3rd 2019
  Lower, ///< sunday, march 3rd 2019
  Upper, ///< SUNDAY, MARCH 3RD 2019
};

/// "3rd", "11th", "22nd", ...
std::string ordinal(int day);
/// The date written in the given format and case.
std::string render(const Date &d, Format f, LetterCase c = LetterCase::Title);

// ---- splits ----
enum class Split { Train, HeldOut };
/// About this percentage of the calendar dates are held out.
constexpr int kHeldOutPercent = 10;
/// The split a date belongs to: a fixed hash of the date (independent of any
/// seed), so the splits are disjoint by date and never change.
Split splitOf(const Date &d);
/// The dates of one split, oldest first.
const std::vector<Date> &datesOf(Split split);
const char *splitName(Split split); ///< "train", "held-out"

// ---- generation ----
struct DatePair {
  std::string source; ///< the human-written date
  std::string target; ///< ISO 8601: YYYY-MM-DD
};

/// One generated example with what it was made from.
struct DateSample {
  Date date;
  Format format = Format::Iso;
  LetterCase letterCase = LetterCase::Title;
  DatePair pair;
};

struct GenerateOptions {
  /// Formats to draw from, uniformly; empty means all of them.
  std::vector<Format> formats;
  /// Words in title case half of the time, lower and upper case a quarter
  /// each; false writes them all in title case.
  bool caseVariants = true;
};

/// `count` samples of `split`: dates uniform over the split's dates, formats
/// uniform over `options.formats`. The same arguments give the same samples
/// on every platform; different seeds give independent draws.
std::vector<DateSample> generateSamples(uint64_t seed, size_t count, Split split,
                                        const GenerateOptions &options = {});
/// The pairs of generateSamples(seed, count, split, options).
std::vector<DatePair> generateDates(uint64_t seed, size_t count, Split split,
                                    const GenerateOptions &options = {});

// ---- characters and lengths ----
/// Token ids of `text` in the examples' character vocabulary (examples::charId:
/// PAD 0, BOS 1, EOS 2, UNK 3, ' '..'~' as 4..98), followed by EOS if asked.
std::vector<int32_t> encodeChars(const std::string &text, bool appendEos = true);
/// The inverse of encodeChars, up to the first EOS.
std::string decodeChars(const std::vector<int32_t> &ids);
/// The characters any source (resp. target) can contain, sorted.
std::string sourceCharacters();
std::string targetCharacters();
/// The longest source any date in any format and case can give (computed
/// over every date once, then cached); every target is 10 characters.
size_t maxSourceLength();
constexpr size_t kTargetLength = 10;

struct LengthStats {
  size_t count = 0;
  size_t minSource = 0, maxSource = 0;
  double meanSource = 0;
};
LengthStats lengthStats(const std::vector<DatePair> &pairs);

} // namespace dates

#endif // ATTN_EXAMPLES_DATES_DATEDATA_H
