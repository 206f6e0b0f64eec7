//===- Source.cpp - Source files and locations ----------------------------===//
#include "attn/Support/Source.h"

#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace attn {

std::string_view SourceFile::line(unsigned lineNo) const {
  if (lineNo == 0 || lineNo > lineStarts.size())
    return {};
  size_t begin = lineStarts[lineNo - 1];
  size_t end = text.find('\n', begin);
  if (end == std::string::npos)
    end = text.size();
  std::string_view view(text.data() + begin, end - begin);
  if (!view.empty() && view.back() == '\r')
    view.remove_suffix(1);
  return view;
}

std::string Location::str() const {
  if (!file)
    return "<command line>";
  return file->path + ":" + std::to_string(line) + ":" + std::to_string(col);
}

static void indexLines(SourceFile &file) {
  file.lineStarts.push_back(0);
  for (size_t i = 0; i < file.text.size(); ++i)
    if (file.text[i] == '\n')
      file.lineStarts.push_back(i + 1);
}

const SourceFile *SourceManager::find(const std::string &path) const {
  for (const auto &file : files)
    if (file->path == path)
      return file.get();
  return nullptr;
}

const SourceFile *SourceManager::load(const std::string &path,
                                      std::string &error) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    error = "cannot open '" + path + "': no such file";
    return nullptr;
  }
  if (S_ISDIR(info.st_mode)) {
    error = "cannot read '" + path + "': it is a directory";
    return nullptr;
  }
  if (static_cast<size_t>(info.st_size) > kMaxFileBytes) {
    error = "'" + path + "' is " + std::to_string(info.st_size) +
            " bytes; model files larger than " +
            std::to_string(kMaxFileBytes) + " bytes are not accepted";
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open '" + path + "'";
    return nullptr;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return addBuffer(path, buffer.str());
}

const SourceFile *SourceManager::addBuffer(std::string path, std::string text) {
  auto file = std::make_unique<SourceFile>();
  file->path = std::move(path);
  file->text = std::move(text);
  indexLines(*file);
  files.push_back(std::move(file));
  return files.back().get();
}

} // namespace attn
