// Grapheme-to-phoneme data: the CMU pronouncing dictionary as Debian's
// festlex-cmu package ships it (/usr/share/festival/dicts/cmu/cmudict-0.4.out,
// Festival's compiled-lexicon form of CMUdict 0.4), read into spelling ->
// phoneme-sequence pairs with a deterministic split by word.
//
// The file is a Scheme-like lexicon: an optional header atom ("MNCL"), then
// one entry per line,
//   ("abandon" nil (((ax) 0) ((b ae n) 1) ((d ax n) 0)))
//   ("abuse" n (((ax) 0) ((b y uw s) 1)))
//   ("abuse" v (((ax) 0) ((b y uw z) 1)))
// a quoted word, a part of speech (nil, n, v, j, ...: homographs have one entry
// per part of speech), and syllables ((phones...) stress). parseLexicon also
// accepts a flat phone list, ("word" nil (hh ax l ow1)), whose stress digits
// it strips, and ';' comments.
//
// Choices (README.md says why):
//   - stress is dropped: syllable stress marks are ignored and digits at the
//     end of a phone are stripped, as the G2P literature usually reports;
//     syllable boundaries are dropped too: a pronunciation is a flat phone list;
//   - words are the entries spelt in lower-case letters a-z only (the few
//     capitalised entries are Festival's additions: proper names, acronyms);
//   - a word with several entries keeps all its distinct pronunciations, in
//     file order: training uses the first, evaluation counts a hypothesis
//     correct if it matches any of them (and scores phone errors against the
//     closest);
//   - each word belongs to one split by a fixed hash of its spelling (about
//     5% test, 5% dev, 90% train), so the splits are disjoint by word.
#ifndef ATTN_EXAMPLES_G2P_G2PDATA_H
#define ATTN_EXAMPLES_G2P_G2PDATA_H

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace g2p {

// ---- vocabularies ----
// Both start with PAD = 0, BOS = 1, EOS = 2, UNK = 3 (as examples_common.h).
constexpr int32_t PAD = 0, BOS = 1, EOS = 2, UNK = 3;
/// Letters: the four specials, then 'a'..'z' as 4..29 (dim V in g2p.attn).
constexpr int64_t kLetterVocabularySize = 4 + 26;
/// The 40 phones of Festival's CMU lexicon (CMUdict's 39 plus "ax", the
/// reduced vowel), lower case, in alphabetical order.
const std::vector<std::string> &phoneInventory();
/// The four specials, then the phones as 4..43 (dim P in g2p.attn).
constexpr int64_t kPhonemeVocabularySize = 4 + 40;

/// 'a'..'z' (either case) -> 4..29; anything else UNK.
int32_t letterId(char c);
/// A phone of the inventory (any case, stress digits allowed) -> its id, or -1.
int32_t phoneId(const std::string &phone);
/// An id as text: a phone, a letter or <pad>, <bos>, <eos>, <unk>.
std::string phoneText(int32_t id);
std::string letterText(int32_t id);

/// Letter ids of a word, no BOS or EOS.
std::vector<int32_t> encodeLetters(const std::string &word);
/// Phone ids of a pronunciation, then EOS if asked. Throws
/// std::invalid_argument for a phone outside the inventory.
std::vector<int32_t> encodePhones(const std::vector<std::string> &phones, bool appendEos = true);
/// Phones of ids up to (not including) the first EOS; specials as their text.
std::vector<std::string> decodePhones(const std::vector<int32_t> &ids);
/// "ax b ae n d ax n".
std::string joinPhones(const std::vector<std::string> &phones);

// ---- the lexicon file ----
struct LexiconEntry {
  std::string word;                ///< as in the file
  std::string pos;                 ///< part of speech: "nil", "n", "v", ...
  std::vector<std::string> phones; ///< lower case, stress digits stripped
  int line = 0;                    ///< 1-based line where the entry starts
};

/// Parses a lexicon (the format above). Throws std::runtime_error naming
/// `sourceName`, the line and what is wrong for malformed text (unbalanced
/// parentheses, an unterminated string, an entry that is not
/// ("word" pos pronunciation)). Top-level atoms (the "MNCL" header) are skipped.
std::vector<LexiconEntry> parseLexicon(std::istream &in, const std::string &sourceName = "<input>");
std::vector<LexiconEntry> parseLexiconText(const std::string &text,
                                           const std::string &sourceName = "<text>");

/// Where festlex-cmu puts the dictionary.
const char *defaultLexiconPath();
/// Reads and parses `path`; a missing file throws std::runtime_error saying
/// to install Debian's festlex-cmu (apt-get install festlex-cmu) or to pass
/// another file.
std::vector<LexiconEntry> loadLexicon(const std::string &path);

// ---- words and splits ----
enum class Split { Train, Dev, Test };
const char *toString(Split split);
constexpr int kTestPercent = 5, kDevPercent = 5;
/// A fixed hash of the spelling (FNV-1a, then SplitMix64) -> 0..99: below
/// kTestPercent is Test, below kTestPercent + kDevPercent Dev, else Train.
Split splitOf(const std::string &word);

struct Word {
  std::string spelling;                             ///< a-z only
  std::vector<std::vector<std::string>> pronunciations; ///< distinct, file order; >= 1
  Split split = Split::Train;
};

struct DictionaryStats {
  size_t entries = 0;          ///< entries read
  size_t skippedSpelling = 0;  ///< entries whose word is not lower-case a-z
  size_t skippedEmpty = 0;     ///< entries without phones
  size_t words = 0;            ///< distinct words kept
  size_t multiplePronunciations = 0; ///< words with more than one
  size_t perSplit[3] = {0, 0, 0};    ///< Train, Dev, Test
};

/// The words of `entries`, in order of first appearance, with their splits.
/// Throws std::invalid_argument (naming the word and line) for a phone
/// outside phoneInventory().
std::vector<Word> buildWords(const std::vector<LexiconEntry> &entries,
                             DictionaryStats *stats = nullptr);
/// The words of one split, in order.
std::vector<Word> wordsOf(const std::vector<Word> &words, Split split);

// ---- evaluation ----
/// Levenshtein distance (unit insertions, deletions, substitutions).
size_t editDistance(const std::vector<std::string> &a, const std::vector<std::string> &b);

/// Phone error rate = sum of edit distances / sum of reference lengths (the
/// reference closest to the hypothesis, the shorter one on ties), and word
/// error rate = words whose hypothesis matches none of the references / words.
struct Score {
  size_t words = 0, wordErrors = 0, phoneErrors = 0, referencePhones = 0;
  void add(const std::vector<std::string> &hypothesis,
           const std::vector<std::vector<std::string>> &references);
  double per() const;
  double wer() const;
};

} // namespace g2p

#endif // ATTN_EXAMPLES_G2P_G2PDATA_H
