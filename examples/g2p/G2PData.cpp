#include "G2PData.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <istream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace g2p {

// ---- vocabularies ----

const std::vector<std::string> &phoneInventory() {
  static const std::vector<std::string> phones = {
      "aa", "ae", "ah", "ao", "aw", "ax", "ay", "b",  "ch", "d",  "dh", "eh", "er", "ey",
      "f",  "g",  "hh", "ih", "iy", "jh", "k",  "l",  "m",  "n",  "ng", "ow", "oy", "p",
      "r",  "s",  "sh", "t",  "th", "uh", "uw", "v",  "w",  "y",  "z",  "zh"};
  return phones;
}

namespace {

const char *const kSpecials[4] = {"<pad>", "<bos>", "<eos>", "<unk>"};

/// Lower case, trailing stress digits removed.
std::string normalisePhone(const std::string &phone) {
  std::string p;
  for (char c : phone)
    p += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!p.empty() && std::isdigit(static_cast<unsigned char>(p.back())))
    p.pop_back();
  return p;
}

} // namespace

int32_t letterId(char c) {
  char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return l >= 'a' && l <= 'z' ? 4 + (l - 'a') : UNK;
}

int32_t phoneId(const std::string &phone) {
  static const std::unordered_map<std::string, int32_t> ids = [] {
    std::unordered_map<std::string, int32_t> m;
    for (size_t i = 0; i < phoneInventory().size(); ++i)
      m[phoneInventory()[i]] = static_cast<int32_t>(4 + i);
    return m;
  }();
  auto it = ids.find(normalisePhone(phone));
  return it == ids.end() ? -1 : it->second;
}

std::string phoneText(int32_t id) {
  if (id >= 0 && id < 4)
    return kSpecials[id];
  if (id >= 4 && id < kPhonemeVocabularySize)
    return phoneInventory()[id - 4];
  return "<" + std::to_string(id) + ">";
}

std::string letterText(int32_t id) {
  if (id >= 0 && id < 4)
    return kSpecials[id];
  if (id >= 4 && id < kLetterVocabularySize)
    return std::string(1, static_cast<char>('a' + (id - 4)));
  return "<" + std::to_string(id) + ">";
}

std::vector<int32_t> encodeLetters(const std::string &word) {
  std::vector<int32_t> ids;
  for (char c : word)
    ids.push_back(letterId(c));
  return ids;
}

std::vector<int32_t> encodePhones(const std::vector<std::string> &phones, bool appendEos) {
  std::vector<int32_t> ids;
  for (const std::string &p : phones) {
    int32_t id = phoneId(p);
    if (id < 0)
      throw std::invalid_argument("phone '" + p + "' is not in the CMU phone set");
    ids.push_back(id);
  }
  if (appendEos)
    ids.push_back(EOS);
  return ids;
}

std::vector<std::string> decodePhones(const std::vector<int32_t> &ids) {
  std::vector<std::string> phones;
  for (int32_t id : ids) {
    if (id == EOS)
      break;
    phones.push_back(phoneText(id));
  }
  return phones;
}

std::string joinPhones(const std::vector<std::string> &phones) {
  std::string s;
  for (const std::string &p : phones)
    s += (s.empty() ? "" : " ") + p;
  return s;
}

// ---- the lexicon file ----

namespace {

/// An s-expression: an atom, a string or a list.
struct Node {
  enum Kind { Atom, String, List } kind = Atom;
  std::string text;
  std::vector<Node> items;
  int line = 0;
};

class Reader {
public:
  Reader(const std::string &text, const std::string &name) : text_(text), name_(name) {}

  /// The next top-level expression; false at the end of the text.
  bool next(Node &node) {
    skipSpace();
    if (pos_ >= text_.size())
      return false;
    node = read();
    return true;
  }

  [[noreturn]] void fail(int line, const std::string &what) const {
    throw std::runtime_error(name_ + ":" + std::to_string(line) + ": " + what);
  }

private:
  void skipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++line_, ++pos_;
      } else if (c == ';') {
        while (pos_ < text_.size() && text_[pos_] != '\n')
          ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  Node read() {
    Node node;
    node.line = line_;
    char c = text_[pos_];
    if (c == '(') {
      node.kind = Node::List;
      ++pos_;
      for (;;) {
        skipSpace();
        if (pos_ >= text_.size())
          fail(node.line, "unbalanced '(': the list is not closed");
        if (text_[pos_] == ')') {
          ++pos_;
          return node;
        }
        node.items.push_back(read());
      }
    }
    if (c == ')')
      fail(line_, "unexpected ')'");
    if (c == '"') {
      node.kind = Node::String;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size())
          fail(node.line, "unterminated string");
        char s = text_[pos_++];
        if (s == '"')
          return node;
        if (s == '\n')
          ++line_;
        if (s == '\\' && pos_ < text_.size())
          s = text_[pos_++];
        node.text += s;
      }
    }
    node.kind = Node::Atom;
    while (pos_ < text_.size()) {
      char a = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(a)) || a == '(' || a == ')' || a == '"' ||
          a == ';')
        break;
      node.text += a;
      ++pos_;
    }
    return node;
  }

  const std::string &text_;
  std::string name_;
  size_t pos_ = 0;
  int line_ = 1;
};

void addPhone(const Reader &reader, const Node &atom, std::vector<std::string> &phones) {
  if (atom.kind != Node::Atom)
    reader.fail(atom.line, "a phone must be a symbol");
  std::string p = normalisePhone(atom.text);
  if (p.empty())
    reader.fail(atom.line, "phone '" + atom.text + "' has no letters");
  phones.push_back(p);
}

/// ("word" pos pronunciation ...): the pronunciation is a list of syllables
/// ((phones...) stress) or a flat list of phones.
LexiconEntry entryOf(const Reader &reader, const Node &list) {
  if (list.items.size() < 3)
    reader.fail(list.line, "an entry must be (\"word\" pos pronunciation)");
  const Node &word = list.items[0], &pos = list.items[1], &pron = list.items[2];
  if (word.kind != Node::String && word.kind != Node::Atom)
    reader.fail(list.line, "an entry must start with its word");
  LexiconEntry e;
  e.word = word.text;
  e.line = list.line;
  if (pos.kind == Node::List) {
    for (const Node &p : pos.items)
      e.pos += (e.pos.empty() ? "" : " ") + p.text;
  } else {
    e.pos = pos.text;
  }
  if (pron.kind != Node::List)
    reader.fail(pron.line, "the pronunciation of \"" + e.word + "\" must be a list");
  for (const Node &item : pron.items) {
    if (item.kind != Node::List) { // a flat phone list
      addPhone(reader, item, e.phones);
      continue;
    }
    // A syllable: ((phones...) stress).
    if (item.items.empty() || item.items[0].kind != Node::List)
      reader.fail(item.line, "a syllable of \"" + e.word + "\" must be ((phones...) stress)");
    for (const Node &phone : item.items[0].items)
      addPhone(reader, phone, e.phones);
  }
  return e;
}

} // namespace

std::vector<LexiconEntry> parseLexiconText(const std::string &text, const std::string &sourceName) {
  Reader reader(text, sourceName);
  std::vector<LexiconEntry> entries;
  Node node;
  while (reader.next(node)) {
    if (node.kind != Node::List)
      continue; // the "MNCL" header, or other top-level symbols
    entries.push_back(entryOf(reader, node));
  }
  return entries;
}

std::vector<LexiconEntry> parseLexicon(std::istream &in, const std::string &sourceName) {
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    throw std::runtime_error(sourceName + ": read error");
  return parseLexiconText(text, sourceName);
}

const char *defaultLexiconPath() { return "/usr/share/festival/dicts/cmu/cmudict-0.4.out"; }

std::vector<LexiconEntry> loadLexicon(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(
        "cannot read the CMU pronouncing dictionary at " + path +
        ": install Debian's festlex-cmu package (apt-get install festlex-cmu), which puts it at " +
        defaultLexiconPath() + ", or pass another Festival-format lexicon with --dict FILE");
  std::vector<LexiconEntry> entries = parseLexicon(in, path);
  if (entries.empty())
    throw std::runtime_error(path + ": no lexicon entries");
  return entries;
}

// ---- words and splits ----

const char *toString(Split split) {
  switch (split) {
  case Split::Train:
    return "train";
  case Split::Dev:
    return "dev";
  case Split::Test:
    return "test";
  }
  return "?";
}

Split splitOf(const std::string &word) {
  uint64_t h = 1469598103934665603ull; // FNV-1a
  for (unsigned char c : word) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h += 0x9e3779b97f4a7c15ull; // SplitMix64's finaliser
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  int bucket = static_cast<int>(h % 100);
  if (bucket < kTestPercent)
    return Split::Test;
  if (bucket < kTestPercent + kDevPercent)
    return Split::Dev;
  return Split::Train;
}

std::vector<Word> buildWords(const std::vector<LexiconEntry> &entries, DictionaryStats *stats) {
  DictionaryStats s;
  std::vector<Word> words;
  std::unordered_map<std::string, size_t> index;
  for (const LexiconEntry &e : entries) {
    ++s.entries;
    bool letters = !e.word.empty() && std::all_of(e.word.begin(), e.word.end(),
                                                  [](char c) { return c >= 'a' && c <= 'z'; });
    if (!letters) {
      ++s.skippedSpelling;
      continue;
    }
    if (e.phones.empty()) {
      ++s.skippedEmpty;
      continue;
    }
    for (const std::string &p : e.phones)
      if (phoneId(p) < 0)
        throw std::invalid_argument("line " + std::to_string(e.line) + ": \"" + e.word +
                                    "\" has phone '" + p + "', not in the CMU phone set");
    auto [it, inserted] = index.emplace(e.word, words.size());
    if (inserted) {
      Word w;
      w.spelling = e.word;
      w.split = splitOf(e.word);
      words.push_back(std::move(w));
    }
    Word &w = words[it->second];
    if (std::find(w.pronunciations.begin(), w.pronunciations.end(), e.phones) ==
        w.pronunciations.end())
      w.pronunciations.push_back(e.phones);
  }
  for (const Word &w : words) {
    ++s.perSplit[static_cast<int>(w.split)];
    s.multiplePronunciations += w.pronunciations.size() > 1;
  }
  s.words = words.size();
  if (stats)
    *stats = s;
  return words;
}

std::vector<Word> wordsOf(const std::vector<Word> &words, Split split) {
  std::vector<Word> out;
  for (const Word &w : words)
    if (w.split == split)
      out.push_back(w);
  return out;
}

// ---- evaluation ----

size_t editDistance(const std::vector<std::string> &a, const std::vector<std::string> &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

void Score::add(const std::vector<std::string> &hypothesis,
                const std::vector<std::vector<std::string>> &references) {
  if (references.empty())
    throw std::invalid_argument("Score::add: a word needs at least one reference");
  size_t bestDistance = 0, bestLength = 0;
  for (size_t r = 0; r < references.size(); ++r) {
    size_t d = editDistance(hypothesis, references[r]);
    if (r == 0 || d < bestDistance || (d == bestDistance && references[r].size() < bestLength)) {
      bestDistance = d;
      bestLength = references[r].size();
    }
  }
  ++words;
  wordErrors += bestDistance != 0;
  phoneErrors += bestDistance;
  referencePhones += bestLength;
}

double Score::per() const {
  return referencePhones == 0 ? 0 : static_cast<double>(phoneErrors) / referencePhones;
}

double Score::wer() const { return words == 0 ? 0 : static_cast<double>(wordErrors) / words; }

} // namespace g2p
