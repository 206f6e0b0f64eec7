// Tests of the grapheme-to-phoneme data library: the lexicon parser on inline
// samples (festlex-cmu is not needed), vocabularies, words and splits, and the
// error rates.
#include "G2PData.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

using g2p::LexiconEntry;
using g2p::Split;
using Phones = std::vector<std::string>;

namespace {

// The shape of /usr/share/festival/dicts/cmu/cmudict-0.4.out, lines taken from it.
const char *kSample = R"(MNCL
("a" dt (((ax) 0)))
("a" n (((ey) 1)))
("aardvark" nil (((aa r d) 1) ((v aa r k) 1)))
("abandon" nil (((ax) 0) ((b ae n) 1) ((d ax n) 0)))
("abuse" n (((ax) 0) ((b y uw s) 1)))
("abuse" v (((ax) 0) ((b y uw z) 1)))
("abject" n (((ae b) 1) ((jh eh k t) 0)))
("abject" v (((ae b) 1) ((jh eh k t) 0)))
("Caltech" n (((k ae l) 1) ((t eh k) 1)))
("dIsere" n (((d iy) 0) ((s eh) 1) ((r iy) 0)))
)";

std::string phonesOf(const LexiconEntry &e) { return g2p::joinPhones(e.phones); }

TEST(Parse, FestivalCmuSample) {
  std::vector<LexiconEntry> entries = g2p::parseLexiconText(kSample);
  ASSERT_EQ(entries.size(), 10u); // the MNCL header is skipped
  EXPECT_EQ(entries[0].word, "a");
  EXPECT_EQ(entries[0].pos, "dt");
  EXPECT_EQ(phonesOf(entries[0]), "ax");
  EXPECT_EQ(entries[0].line, 2);
  EXPECT_EQ(entries[1].pos, "n");
  EXPECT_EQ(phonesOf(entries[1]), "ey");
  // Syllables are flattened, their stress marks dropped.
  EXPECT_EQ(entries[2].word, "aardvark");
  EXPECT_EQ(entries[2].pos, "nil");
  EXPECT_EQ(phonesOf(entries[2]), "aa r d v aa r k");
  EXPECT_EQ(phonesOf(entries[3]), "ax b ae n d ax n");
  EXPECT_EQ(phonesOf(entries[5]), "ax b y uw z");
  EXPECT_EQ(entries[8].word, "Caltech");
  EXPECT_EQ(entries[9].line, 11);
}

TEST(Parse, FlatPhoneListsLoseTheirStressDigits) {
  std::vector<LexiconEntry> entries =
      g2p::parseLexiconText("(\"hello\" nil (HH AH0 L OW1))\n(\"zebra\" nil (z iy2 b r ax0))");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(phonesOf(entries[0]), "hh ah l ow");
  EXPECT_EQ(phonesOf(entries[1]), "z iy b r ax");
}

TEST(Parse, CommentsWhitespaceAndEscapes) {
  std::vector<LexiconEntry> entries = g2p::parseLexiconText(
      "; a comment\n\n  (\"it\\\"s\"   nil\n   (((ih t s) 1)))  ; trailing\n(\"b\" (n) (((b iy) 1)))\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].word, "it\"s");
  EXPECT_EQ(entries[0].line, 3);
  EXPECT_EQ(phonesOf(entries[0]), "ih t s");
  EXPECT_EQ(entries[1].pos, "n");
}

TEST(Parse, StreamAndEmptyText) {
  std::istringstream in(kSample);
  EXPECT_EQ(g2p::parseLexicon(in, "sample").size(), 10u);
  EXPECT_TRUE(g2p::parseLexiconText("MNCL\n").empty());
}

void expectParseError(const std::string &text, const std::string &fragment) {
  try {
    g2p::parseLexiconText(text, "bad.out");
    ADD_FAILURE() << "no error for: " << text;
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message: " << e.what();
  }
}

TEST(Parse, ErrorsNameTheFileAndLine) {
  expectParseError("(\"a\" nil (((ax) 0)))\n(\"b\" nil (((b iy) 1))\n", "bad.out:2: unbalanced");
  expectParseError("(\"a\" nil (((ax) 0)))\n)\n", "bad.out:2: unexpected ')'");
  expectParseError("\n(\"abc nil (((ax) 0)))\n", "bad.out:2: unterminated string");
  expectParseError("(\"a\" nil)\n", "bad.out:1: an entry must be");
  expectParseError("(\"a\" nil ax)\n", "must be a list");
  expectParseError("(\"a\" nil ((0 (ax))))\n", "must be ((phones...) stress)");
  expectParseError("(\"a\" nil (((ax \"q\") 0)))\n", "a phone must be a symbol");
  expectParseError("(\"a\" nil (((ax 12) 0)))\n", "phone '12' has no letters");
}

TEST(Load, MissingFileSaysToInstallFestlexCmu) {
  try {
    g2p::loadLexicon("/nonexistent/dir/cmudict-0.4.out");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error &e) {
    std::string message = e.what();
    EXPECT_NE(message.find("/nonexistent/dir/cmudict-0.4.out"), std::string::npos) << message;
    EXPECT_NE(message.find("apt-get install festlex-cmu"), std::string::npos) << message;
  }
  EXPECT_STREQ(g2p::defaultLexiconPath(), "/usr/share/festival/dicts/cmu/cmudict-0.4.out");
}

TEST(Load, TheCheckedInSample) {
  std::vector<LexiconEntry> entries =
      g2p::loadLexicon(std::string(G2P_TESTDATA_DIR) + "/mini-cmudict.out");
  EXPECT_EQ(entries.size(), 217u);
  g2p::DictionaryStats stats;
  std::vector<g2p::Word> words = g2p::buildWords(entries, &stats);
  EXPECT_GT(stats.perSplit[0], 0u);
  EXPECT_GT(stats.perSplit[1], 0u);
  EXPECT_GT(stats.perSplit[2], 0u);
}

TEST(Vocabulary, LettersAndPhones) {
  EXPECT_EQ(g2p::phoneInventory().size(), 40u);
  EXPECT_EQ(static_cast<int64_t>(g2p::phoneInventory().size()) + 4, g2p::kPhonemeVocabularySize);
  std::set<std::string> distinct(g2p::phoneInventory().begin(), g2p::phoneInventory().end());
  EXPECT_EQ(distinct.size(), 40u);
  EXPECT_EQ(g2p::letterId('a'), 4);
  EXPECT_EQ(g2p::letterId('Z'), 29);
  EXPECT_EQ(g2p::letterId('\''), g2p::UNK);
  EXPECT_EQ(g2p::kLetterVocabularySize, 30);
  EXPECT_EQ(g2p::letterText(4), "a");
  EXPECT_EQ(g2p::phoneId("aa"), 4);
  EXPECT_EQ(g2p::phoneId("AH1"), g2p::phoneId("ah"));
  EXPECT_EQ(g2p::phoneId("zh"), 43);
  EXPECT_EQ(g2p::phoneId("q"), -1);
  for (int32_t id = 4; id < g2p::kPhonemeVocabularySize; ++id)
    EXPECT_EQ(g2p::phoneId(g2p::phoneText(id)), id);
  EXPECT_EQ(g2p::phoneText(g2p::EOS), "<eos>");

  std::vector<int32_t> ids = g2p::encodePhones({"ax", "b", "ae", "n"});
  EXPECT_EQ(ids.back(), g2p::EOS);
  EXPECT_EQ(g2p::joinPhones(g2p::decodePhones(ids)), "ax b ae n");
  EXPECT_EQ(g2p::encodePhones({"ax"}, /*appendEos=*/false).size(), 1u);
  EXPECT_THROW(g2p::encodePhones({"ax", "q"}), std::invalid_argument);
  EXPECT_EQ(g2p::encodeLetters("abc"), (std::vector<int32_t>{4, 5, 6}));
}

TEST(Words, FilteringAndSeveralPronunciations) {
  g2p::DictionaryStats stats;
  std::vector<g2p::Word> words = g2p::buildWords(g2p::parseLexiconText(kSample), &stats);
  EXPECT_EQ(stats.entries, 10u);
  EXPECT_EQ(stats.skippedSpelling, 2u); // Caltech, dIsere
  EXPECT_EQ(stats.words, 5u);           // a, aardvark, abandon, abuse, abject
  EXPECT_EQ(stats.multiplePronunciations, 2u);
  ASSERT_EQ(words.size(), 5u);
  EXPECT_EQ(words[0].spelling, "a");
  ASSERT_EQ(words[0].pronunciations.size(), 2u); // file order: the first is trained on
  EXPECT_EQ(words[0].pronunciations[0], Phones{"ax"});
  EXPECT_EQ(words[0].pronunciations[1], Phones{"ey"});
  EXPECT_EQ(words[3].spelling, "abuse");
  EXPECT_EQ(words[3].pronunciations.size(), 2u);
  EXPECT_EQ(words[4].spelling, "abject");
  EXPECT_EQ(words[4].pronunciations.size(), 1u); // identical noun and verb: kept once
  EXPECT_EQ(stats.perSplit[0] + stats.perSplit[1] + stats.perSplit[2], 5u);
  for (const g2p::Word &w : words)
    EXPECT_EQ(w.split, g2p::splitOf(w.spelling));
}

TEST(Words, UnknownPhoneIsAnError) {
  try {
    g2p::buildWords(g2p::parseLexiconText("(\"a\" nil (((ax) 0)))\n(\"qu\" nil (((q uw) 1)))"));
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument &e) {
    EXPECT_NE(std::string(e.what()).find("line 2: \"qu\" has phone 'q'"), std::string::npos)
        << e.what();
  }
}

TEST(Words, EntriesWithoutPhonesAreSkipped) {
  g2p::DictionaryStats stats;
  auto words = g2p::buildWords(g2p::parseLexiconText("(\"a\" nil ())\n(\"b\" nil (b iy))"), &stats);
  EXPECT_EQ(stats.skippedEmpty, 1u);
  ASSERT_EQ(words.size(), 1u);
  EXPECT_EQ(words[0].spelling, "b");
}

TEST(Split, DeterministicAndAboutFivePercentEach) {
  // Pinned: the split of a word never changes.
  EXPECT_EQ(g2p::splitOf("abandon"), g2p::splitOf("abandon"));
  size_t counts[3] = {0, 0, 0};
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    std::string w;
    for (int k = i; k > 0 || w.empty(); k /= 26)
      w += static_cast<char>('a' + k % 26);
    ++counts[static_cast<int>(g2p::splitOf(w))];
  }
  EXPECT_NEAR(static_cast<double>(counts[2]) / n, 0.05, 0.005);
  EXPECT_NEAR(static_cast<double>(counts[1]) / n, 0.05, 0.005);
  EXPECT_NEAR(static_cast<double>(counts[0]) / n, 0.90, 0.01);
  EXPECT_STREQ(g2p::toString(Split::Test), "test");
}

TEST(Split, WordsOfPartitions) {
  std::string text;
  for (int i = 0; i < 400; ++i) {
    std::string w = "w";
    for (int k = i; k > 0; k /= 26)
      w += static_cast<char>('a' + k % 26);
    text += "(\"" + w + "\" nil (((w ax) 1)))\n";
  }
  std::vector<g2p::Word> words = g2p::buildWords(g2p::parseLexiconText(text));
  std::set<std::string> seen;
  size_t total = 0;
  for (Split s : {Split::Train, Split::Dev, Split::Test})
    for (const g2p::Word &w : g2p::wordsOf(words, s)) {
      EXPECT_EQ(w.split, s);
      EXPECT_TRUE(seen.insert(w.spelling).second) << w.spelling << " in two splits";
      ++total;
    }
  EXPECT_EQ(total, words.size());
}

TEST(Score, EditDistance) {
  EXPECT_EQ(g2p::editDistance({}, {}), 0u);
  EXPECT_EQ(g2p::editDistance({"a"}, {}), 1u);
  EXPECT_EQ(g2p::editDistance({}, {"a", "b"}), 2u);
  EXPECT_EQ(g2p::editDistance({"k", "ae", "t"}, {"k", "ae", "t"}), 0u);
  EXPECT_EQ(g2p::editDistance({"k", "ae", "t"}, {"k", "ah", "t"}), 1u);
  EXPECT_EQ(g2p::editDistance({"k", "ae", "t", "s"}, {"k", "ae", "t"}), 1u);
  EXPECT_EQ(g2p::editDistance({"s", "k", "ae", "t"}, {"k", "ae", "t", "s"}), 2u);
  // kitten -> sitting, as letters
  Phones kitten = {"k", "i", "t", "t", "e", "n"}, sitting = {"s", "i", "t", "t", "i", "n", "g"};
  EXPECT_EQ(g2p::editDistance(kitten, sitting), 3u);
  EXPECT_EQ(g2p::editDistance(sitting, kitten), 3u);
}

TEST(Score, AnyPronunciationCounts) {
  g2p::Score s;
  // Right by the second pronunciation.
  s.add({"ax", "b", "y", "uw", "z"}, {{"ax", "b", "y", "uw", "s"}, {"ax", "b", "y", "uw", "z"}});
  EXPECT_EQ(s.wordErrors, 0u);
  EXPECT_EQ(s.phoneErrors, 0u);
  EXPECT_EQ(s.referencePhones, 5u);
  // One substitution against the closest of two.
  s.add({"k", "ah", "t"}, {{"k", "ae", "t"}, {"d", "ao", "g", "z"}});
  EXPECT_EQ(s.words, 2u);
  EXPECT_EQ(s.wordErrors, 1u);
  EXPECT_EQ(s.phoneErrors, 1u);
  EXPECT_EQ(s.referencePhones, 8u);
  EXPECT_DOUBLE_EQ(s.wer(), 0.5);
  EXPECT_DOUBLE_EQ(s.per(), 1.0 / 8);
  // Equally close references: the shorter one is the reference length.
  g2p::Score t;
  t.add({"a", "b"}, {{"a", "b", "c"}, {"a"}});
  EXPECT_EQ(t.phoneErrors, 1u);
  EXPECT_EQ(t.referencePhones, 1u);
  EXPECT_THROW(t.add({"a"}, {}), std::invalid_argument);
  EXPECT_DOUBLE_EQ(g2p::Score().per(), 0.0);
}

} // namespace
