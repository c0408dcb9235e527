// The files one pjit-run job writes into its output directory, as one set. The manifest is
// removed before any output is written and written (atomically) after the last, so a
// directory without it holds no complete set — a run died midway, and the files there may
// mix two runs — and it names each file of the set with its size and XXH3-64, so a reader can
// tell a file of another run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/literal.h"
#include "format/status.h"

namespace pjit {

inline constexpr const char* kOutputManifest = "pjit-outputs.txt";

class OutputSet {
 public:
  // Creates `dir` if needed and removes the manifest a previous run left there.
  static StatusOr<OutputSet> Begin(const std::string& dir);

  // Writes `array` as `dir`/`file` (.npy, atomically) and records it; returns its path.
  StatusOr<std::string> Write(const std::string& file, const Literal& array);

  // Writes the manifest: the set is complete.
  Status Finish(const std::string& artifact) const;

 private:
  struct Entry {
    std::string file;
    uint64_t bytes;
    uint64_t xxh3;
  };
  explicit OutputSet(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::vector<Entry> entries_;
};

}  // namespace pjit
