#include "run/output_set.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "format/content_hash.h"
#include "format/file_util.h"
#include "format/npy.h"

namespace pjit {

namespace fs = std::filesystem;

StatusOr<OutputSet> OutputSet::Begin(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create '", dir, "': ", ec.message());
  std::string manifest = (fs::path(dir) / kOutputManifest).string();
  if (std::remove(manifest.c_str()) != 0 && errno != ENOENT) return IoError("cannot remove '", manifest, "': ", std::strerror(errno));
  return OutputSet(dir);
}

StatusOr<std::string> OutputSet::Write(const std::string& file, const Literal& array) {
  std::string path = (fs::path(dir_) / file).string();
  if (!array.shape().IsArray()) return InvalidArgument(path, ": only arrays can be written as .npy, not ", array.shape().ToString());
  std::string header = NpyHeader(array);
  std::string_view data(reinterpret_cast<const char*>(array.bytes().data()), array.bytes().size());
  PJIT_RETURN_IF_ERROR(WriteFileAtomically(path, {header, data}));
  entries_.push_back(Entry{file, header.size() + data.size(), ContentHash({header, data})});
  return path;
}

Status OutputSet::Finish(const std::string& artifact) const {
  std::string text = "# pjit-run output set, written after every file it lists: FILE BYTES XXH3-64\n";
  text += "artifact " + artifact + "\n";
  for (const Entry& e : entries_) {
    char hash[24];
    std::snprintf(hash, sizeof hash, "%016" PRIx64, e.xxh3);
    text += e.file + " " + std::to_string(e.bytes) + " " + hash + "\n";
  }
  return WriteFileAtomically((fs::path(dir_) / kOutputManifest).string(), text);
}

}  // namespace pjit
