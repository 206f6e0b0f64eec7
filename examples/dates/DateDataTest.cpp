// Tests of the date-normalisation data set: the calendar, every format, the
// splits, determinism and the character helpers.
#include "DateData.h"

#include "examples_common.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

using dates::Date;
using dates::Format;
using dates::LetterCase;
using dates::Split;

namespace {

enum { Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday };

/// Zeller's congruence, as an independent weekday (0 = Monday).
int zellerWeekday(const Date &d) {
  int m = d.month, y = d.year;
  if (m < 3)
    m += 12, --y;
  int k = y % 100, j = y / 100;
  int h = (d.day + 13 * (m + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7; // 0 = Saturday
  return (h + 5) % 7;
}

/// A loose reader of human-written dates that knows nothing of the format
/// table: numbers, month and weekday words (full or 3-letter, any case),
/// ordinal suffixes, "of" and "the". Numeric dates are day first unless they
/// start with a 4-digit year; an 8-digit number is yyyymmdd; two-digit years
/// mean 1950..2049. A weekday word must be the date's weekday.
std::optional<Date> looseParse(const std::string &text) {
  static const char *const months[] = {"january", "february", "march",     "april",
                                       "may",     "june",     "july",      "august",
                                       "september", "october", "november", "december"};
  static const char *const weekdays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                         "friday", "saturday", "sunday"};
  struct Number {
    std::string digits;
    bool apostrophe;
  };
  std::vector<Number> numbers;
  int month = 0, weekday = -1;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (std::isdigit(c)) {
      size_t j = i;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])))
        ++j;
      numbers.push_back({text.substr(i, j - i), i > 0 && text[i - 1] == '\''});
      i = j;
    } else if (std::isalpha(c)) {
      size_t j = i;
      std::string word;
      while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j])))
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(text[j++])));
      const bool afterDigit = i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1]));
      if (afterDigit) { // an ordinal suffix: must be the right one
        if (word != dates::ordinal(std::stoi(numbers.back().digits)).substr(
                        numbers.back().digits.size()))
          return std::nullopt;
      } else if (word != "of" && word != "the") {
        bool known = false;
        for (int m = 0; m < 12; ++m)
          if (word == months[m] || word == std::string(months[m]).substr(0, 3))
            month = m + 1, known = true;
        for (int w = 0; w < 7; ++w)
          if (word == weekdays[w] || word == std::string(weekdays[w]).substr(0, 3))
            weekday = w, known = true;
        if (!known)
          return std::nullopt;
      }
      i = j;
    } else {
      ++i;
    }
  }
  auto year = [](const Number &n) {
    int v = std::stoi(n.digits);
    return n.digits.size() == 4 ? v : v >= 50 ? 1900 + v : 2000 + v;
  };
  Date d;
  if (numbers.size() == 1 && numbers[0].digits.size() == 8 && month == 0) {
    d = {std::stoi(numbers[0].digits.substr(0, 4)), std::stoi(numbers[0].digits.substr(4, 2)),
         std::stoi(numbers[0].digits.substr(6, 2))};
  } else if (numbers.size() == 2 && month != 0) {
    const bool firstIsYear = numbers[0].digits.size() == 4 || numbers[0].apostrophe;
    const bool secondIsYear = numbers[1].digits.size() == 4 || numbers[1].apostrophe;
    if (firstIsYear == secondIsYear)
      return std::nullopt;
    d = {year(numbers[firstIsYear ? 0 : 1]), month, std::stoi(numbers[firstIsYear ? 1 : 0].digits)};
  } else if (numbers.size() == 3 && month == 0) {
    if (numbers[0].digits.size() == 4)
      d = {year(numbers[0]), std::stoi(numbers[1].digits), std::stoi(numbers[2].digits)};
    else
      d = {year(numbers[2]), std::stoi(numbers[1].digits), std::stoi(numbers[0].digits)};
  } else {
    return std::nullopt;
  }
  if (!dates::isValid(d) || (weekday >= 0 && weekday != dates::weekday(d)))
    return std::nullopt;
  return d;
}

std::string show(const Date &d) { return dates::isoText(d); }

} // namespace

// ---- calendar ----

TEST(Calendar, KnownWeekdays) {
  EXPECT_EQ(dates::weekday({2019, 3, 3}), Sunday);
  EXPECT_EQ(dates::weekday({2000, 1, 1}), Saturday);
  EXPECT_EQ(dates::weekday({2024, 2, 29}), Thursday);
  EXPECT_EQ(dates::weekday({1970, 1, 1}), Thursday);
  EXPECT_EQ(dates::weekday({1950, 1, 1}), Sunday);
  EXPECT_EQ(dates::weekday({1969, 7, 20}), Sunday);
  EXPECT_EQ(dates::weekday({2049, 12, 31}), Friday);
}

TEST(Calendar, EveryDateAgreesWithZeller) {
  const std::vector<Date> &all = dates::allDates();
  ASSERT_EQ(all.size(), 36525u); // 100 years, 25 of them leap years
  EXPECT_EQ(all.front(), (Date{1950, 1, 1}));
  EXPECT_EQ(all.back(), (Date{2049, 12, 31}));
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_TRUE(dates::isValid(all[i])) << show(all[i]);
    ASSERT_EQ(dates::weekday(all[i]), zellerWeekday(all[i])) << show(all[i]);
    ASSERT_EQ(dates::dateFromDays(dates::daysSinceEpoch(all[i])), all[i]);
    if (i > 0) {
      ASSERT_EQ(dates::daysSinceEpoch(all[i]), dates::daysSinceEpoch(all[i - 1]) + 1);
    }
  }
}

TEST(Calendar, LeapYearsAndValidity) {
  EXPECT_TRUE(dates::isLeapYear(2000));
  EXPECT_TRUE(dates::isLeapYear(2024));
  EXPECT_FALSE(dates::isLeapYear(1900));
  EXPECT_FALSE(dates::isLeapYear(2019));
  EXPECT_TRUE(dates::isValid({2024, 2, 29}));
  EXPECT_FALSE(dates::isValid({2019, 2, 29}));
  EXPECT_FALSE(dates::isValid({2019, 4, 31}));
  EXPECT_FALSE(dates::isValid({2019, 13, 1}));
  EXPECT_FALSE(dates::isValid({1949, 12, 31}));
  EXPECT_FALSE(dates::isValid({2050, 1, 1}));
}

TEST(Calendar, ParseIso) {
  EXPECT_EQ(dates::parseIso("2019-03-03"), (Date{2019, 3, 3}));
  EXPECT_EQ(dates::parseIso("2024-02-29"), (Date{2024, 2, 29}));
  EXPECT_EQ(dates::isoText({1950, 1, 9}), "1950-01-09");
  for (const char *bad : {"2019-3-03", "2019-02-29", "1949-12-31", "2019-13-01", "2019/03/03",
                          "2019-03-3x", "", "2019-03-031"})
    EXPECT_FALSE(dates::parseIso(bad).has_value()) << bad;
}

// ---- formats ----

TEST(Formats, Ordinals) {
  const std::map<int, std::string> expected = {
      {1, "1st"},   {2, "2nd"},   {3, "3rd"},   {4, "4th"},   {10, "10th"}, {11, "11th"},
      {12, "12th"}, {13, "13th"}, {14, "14th"}, {21, "21st"}, {22, "22nd"}, {23, "23rd"},
      {24, "24th"}, {30, "30th"}, {31, "31st"}};
  for (const auto &[day, text] : expected)
    EXPECT_EQ(dates::ordinal(day), text);
}

TEST(Formats, EveryFormatOnTheThirdOfMarch2019) {
  const std::vector<std::string> expected = {
      "3 March 2019",        "03/03/19",       "3/3/2019",          "03/03/2019",
      "Sunday, March 3rd 2019", "Sun 3 Mar 2019", "March 3, 2019",   "2019.03.03",
      "3rd of March, 2019",  "Mar 3 2019",     "03-Mar-2019",       "20190303",
      "3.3.2019",            "03.03.19",       "3-3-19",            "Sunday 3 March 2019",
      "Sun, 3 Mar 2019",     "3 Mar '19",      "3rd March 2019",    "March 3rd, 2019",
      "Sunday the 3rd of March 2019", "Sun Mar 03 2019", "2019/03/03", "2019-3-3",
      "03 Mar 2019",         "2019-03-03"};
  ASSERT_EQ(expected.size(), static_cast<size_t>(dates::kFormatCount));
  for (Format f : dates::allFormats())
    EXPECT_EQ(dates::render({2019, 3, 3}, f), expected[static_cast<int>(f)])
        << dates::formatPattern(f);
}

TEST(Formats, HandWrittenDates) {
  struct Case {
    Date date;
    Format format;
    LetterCase letterCase;
    const char *text;
  };
  const Case cases[] = {
      {{2019, 3, 3}, Format::WeekdayMonthOrdinalYear, LetterCase::Upper, "SUNDAY, MARCH 3RD 2019"},
      {{2019, 3, 3}, Format::MonAbbrDayYear, LetterCase::Upper, "MAR 3 2019"},
      {{2019, 3, 3}, Format::WeekdayAbbrDayMonAbbrYear, LetterCase::Lower, "sun 3 mar 2019"},
      {{2000, 1, 1}, Format::WeekdayTheOrdinalOfMonth, LetterCase::Title,
       "Saturday the 1st of January 2000"},
      {{2000, 1, 1}, Format::WeekdayTheOrdinalOfMonth, LetterCase::Upper,
       "SATURDAY THE 1ST OF JANUARY 2000"},
      {{2024, 2, 29}, Format::WeekdayMonthOrdinalYear, LetterCase::Title,
       "Thursday, February 29th 2024"},
      {{1999, 12, 31}, Format::DaySlashMonthSlashYY, LetterCase::Title, "31/12/99"},
      {{2003, 4, 5}, Format::DaySlashMonthSlashYY, LetterCase::Title, "05/04/03"},
      {{1950, 6, 5}, Format::DayDotMonthDotYY, LetterCase::Title, "05.06.50"},
      {{2049, 12, 22}, Format::OrdinalOfMonthCommaYear, LetterCase::Lower, "22nd of december, 2049"},
      {{2011, 11, 11}, Format::MonthNameOrdinalCommaYear, LetterCase::Title, "November 11th, 2011"},
      {{2012, 9, 23}, Format::DayDashMonAbbrDashYear, LetterCase::Upper, "23-SEP-2012"},
      {{2021, 8, 2}, Format::DayMonAbbrApostropheYY, LetterCase::Title, "2 Aug '21"},
      {{1987, 10, 13}, Format::Compact, LetterCase::Upper, "19871013"},
  };
  for (const Case &c : cases) {
    EXPECT_EQ(dates::render(c.date, c.format, c.letterCase), c.text);
    // The independent reader gets the same date back from the hand-written text.
    std::optional<Date> back = looseParse(c.text);
    ASSERT_TRUE(back.has_value()) << c.text;
    EXPECT_EQ(*back, c.date) << c.text;
  }
  // A wrong weekday or ordinal suffix is not a date.
  EXPECT_FALSE(looseParse("Monday, March 3rd 2019").has_value());
  EXPECT_FALSE(looseParse("March 3th 2019").has_value());
}

TEST(Formats, Errors) {
  EXPECT_THROW(dates::render({2019, 2, 29}, Format::Iso), std::invalid_argument);
  EXPECT_THROW(dates::formatPattern(static_cast<Format>(dates::kFormatCount)),
               std::invalid_argument);
  dates::GenerateOptions bad;
  bad.formats = {static_cast<Format>(-1)};
  EXPECT_THROW(dates::generateDates(1, 1, Split::Train, bad), std::invalid_argument);
}

// Every source string, over every date, format and case, has exactly one date:
// the mapping to targets is a function.
TEST(Formats, EverySourceHasOneDate) {
  std::unordered_map<std::string, int64_t> seen;
  seen.reserve(3 * dates::allDates().size() * dates::kFormatCount);
  for (const Date &d : dates::allDates())
    for (Format f : dates::allFormats())
      for (LetterCase c : {LetterCase::Title, LetterCase::Lower, LetterCase::Upper}) {
        auto [it, inserted] = seen.emplace(dates::render(d, f, c), dates::daysSinceEpoch(d));
        ASSERT_TRUE(inserted || it->second == dates::daysSinceEpoch(d))
            << "'" << it->first << "' is both " << show(d) << " and "
            << show(dates::dateFromDays(it->second));
      }
}

// ---- generated data ----

TEST(Generate, TargetsAndSourcesNameTheSameDate) {
  for (Split split : {Split::Train, Split::HeldOut})
    for (const dates::DateSample &s : dates::generateSamples(5, 20000, split)) {
      std::optional<Date> target = dates::parseIso(s.pair.target);
      ASSERT_TRUE(target.has_value()) << s.pair.target;
      ASSERT_EQ(*target, s.date);
      std::optional<Date> source = looseParse(s.pair.source);
      ASSERT_TRUE(source.has_value()) << s.pair.source;
      ASSERT_EQ(*source, s.date) << s.pair.source << " -> " << s.pair.target;
      ASSERT_EQ(s.pair.source, dates::render(s.date, s.format, s.letterCase));
    }
}

TEST(Generate, Deterministic) {
  for (Split split : {Split::Train, Split::HeldOut}) {
    std::vector<dates::DatePair> a = dates::generateDates(42, 500, split);
    std::vector<dates::DatePair> b = dates::generateDates(42, 500, split);
    std::vector<dates::DatePair> c = dates::generateDates(43, 500, split);
    ASSERT_EQ(a.size(), 500u);
    size_t same = 0, differ = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].source, b[i].source);
      EXPECT_EQ(a[i].target, b[i].target);
      (a[i].source == c[i].source ? same : differ)++;
    }
    EXPECT_GT(differ, 490u) << "seeds 42 and 43 should give different draws";
    // A longer draw starts with the shorter one.
    std::vector<dates::DatePair> longer = dates::generateDates(42, 600, split);
    EXPECT_EQ(longer[499].source, a[499].source);
  }
}

// The first pairs of seed 1, pinned: the generator uses only std::mt19937_64's
// output (fixed by the C++ standard) and its own integer arithmetic, so these
// are the same with every compiler and standard library.
TEST(Generate, GoldenPairs) {
  std::vector<dates::DatePair> train = dates::generateDates(1, 3, Split::Train);
  std::vector<dates::DatePair> heldOut = dates::generateDates(1, 3, Split::HeldOut);
  const std::vector<std::pair<std::string, std::string>> expectedTrain = {
      {"2013/10/02", "2013-10-02"},
      {"Mon 25 Nov 1968", "1968-11-25"},
      {"Fri, 9 Nov 1956", "1956-11-09"}};
  const std::vector<std::pair<std::string, std::string>> expectedHeldOut = {
      {"18.09.00", "2000-09-18"},
      {"Sat 28 Nov 1953", "1953-11-28"},
      {"JUN 3 2004", "2004-06-03"}};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(train[i].source, expectedTrain[i].first);
    EXPECT_EQ(train[i].target, expectedTrain[i].second);
    EXPECT_EQ(heldOut[i].source, expectedHeldOut[i].first);
    EXPECT_EQ(heldOut[i].target, expectedHeldOut[i].second);
  }
}

TEST(Generate, EveryFormatAndCaseAppears) {
  std::vector<dates::DateSample> samples = dates::generateSamples(7, 5000, Split::Train);
  std::map<Format, size_t> formats;
  std::set<LetterCase> cases;
  for (const dates::DateSample &s : samples) {
    formats[s.format]++;
    if (dates::hasWords(s.format))
      cases.insert(s.letterCase);
    else
      EXPECT_EQ(s.letterCase, LetterCase::Title);
  }
  ASSERT_EQ(formats.size(), static_cast<size_t>(dates::kFormatCount));
  for (const auto &[f, n] : formats) // 5000 / 26 = 192 expected; 5 sigma is about 68
    EXPECT_GT(n, 100u) << dates::formatPattern(f);
  EXPECT_EQ(cases.size(), 3u);
  EXPECT_GE(dates::allFormats().size(), 20u);
}

TEST(Generate, Options) {
  dates::GenerateOptions only;
  only.formats = {Format::Compact, Format::MonAbbrDayYear};
  only.caseVariants = false;
  for (const dates::DateSample &s : dates::generateSamples(3, 300, Split::Train, only)) {
    EXPECT_TRUE(s.format == Format::Compact || s.format == Format::MonAbbrDayYear);
    EXPECT_EQ(s.letterCase, LetterCase::Title);
  }
  EXPECT_TRUE(dates::generateDates(3, 0, Split::HeldOut).empty());
}

// ---- splits ----

TEST(Splits, DisjointByDateAndCoverTheCalendar) {
  const std::vector<Date> &train = dates::datesOf(Split::Train);
  const std::vector<Date> &heldOut = dates::datesOf(Split::HeldOut);
  EXPECT_EQ(train.size() + heldOut.size(), dates::allDates().size());
  std::set<int64_t> heldOutDays;
  for (const Date &d : heldOut) {
    EXPECT_EQ(dates::splitOf(d), Split::HeldOut);
    heldOutDays.insert(dates::daysSinceEpoch(d));
  }
  for (const Date &d : train) {
    EXPECT_EQ(dates::splitOf(d), Split::Train);
    EXPECT_EQ(heldOutDays.count(dates::daysSinceEpoch(d)), 0u);
  }
  // About kHeldOutPercent of 36525: 3652 expected, binomial sd 57.
  EXPECT_NEAR(static_cast<double>(heldOut.size()), 3652.5, 300);
}

TEST(Splits, GeneratedSplitsShareNoDate) {
  std::set<std::string> heldOutTargets;
  for (const dates::DatePair &p : dates::generateDates(11, 20000, Split::HeldOut))
    heldOutTargets.insert(p.target);
  EXPECT_GT(heldOutTargets.size(), 3000u); // most held-out dates are drawn
  for (uint64_t seed : {1, 2, 3})
    for (const dates::DatePair &p : dates::generateDates(seed, 30000, Split::Train))
      ASSERT_EQ(heldOutTargets.count(p.target), 0u) << p.source << " -> " << p.target;
}

// ---- characters and lengths ----

TEST(Characters, EncodeWithTheExamplesVocabulary) {
  std::vector<int32_t> ids = dates::encodeChars("3 Mar");
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[0], examples::charId('3'));
  EXPECT_EQ(ids[1], examples::charId(' '));
  EXPECT_EQ(ids[2], 4 + ('M' - ' '));
  EXPECT_EQ(ids[5], examples::EOS);
  EXPECT_EQ(dates::encodeChars("ab", false).size(), 2u);
  EXPECT_EQ(dates::decodeChars(ids), "3 Mar");
  for (char c : dates::sourceCharacters() + dates::targetCharacters()) {
    EXPECT_NE(examples::charId(c), examples::UNK) << c;
    EXPECT_LT(examples::charId(c), examples::kVocabularySize);
  }
}

TEST(Characters, SourcesStayInsideTheAlphabetAndLength) {
  const std::string alphabet = dates::sourceCharacters();
  // The longest: "EEEE the do of MMMM yyyy" with Wednesday, September and a two-digit day.
  EXPECT_EQ(dates::maxSourceLength(), 36u);
  EXPECT_EQ(dates::render({2020, 9, 30}, Format::WeekdayTheOrdinalOfMonth).size(), 36u);
  for (const dates::DatePair &p : dates::generateDates(9, 20000, Split::Train)) {
    ASSERT_LE(p.source.size(), dates::maxSourceLength());
    ASSERT_EQ(p.target.size(), dates::kTargetLength);
    for (char c : p.source)
      ASSERT_NE(alphabet.find(c), std::string::npos) << p.source;
    for (char c : p.target)
      ASSERT_NE(dates::targetCharacters().find(c), std::string::npos) << p.target;
  }
  for (char c : std::string("0123456789 ,./-'aAyY"))
    EXPECT_NE(alphabet.find(c), std::string::npos) << c;
}

TEST(Characters, LengthStats) {
  dates::LengthStats s = dates::lengthStats({{"20190303", "2019-03-03"}, {"3/3/19", "2019-03-03"}});
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.minSource, 6u);
  EXPECT_EQ(s.maxSource, 8u);
  EXPECT_DOUBLE_EQ(s.meanSource, 7.0);
  EXPECT_EQ(dates::lengthStats({}).count, 0u);
}
