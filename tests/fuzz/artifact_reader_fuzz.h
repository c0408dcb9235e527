// The body of the artifact reader fuzzer, shared by the libFuzzer target and the test that
// replays its corpus: read the bytes as an artifact, with and without content-hash checks
// (random bytes never pass the hashes), and load every program that gets through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "format/artifact_reader.h"
#include "format/hlo_printer.h"

namespace pjit {

inline void FuzzArtifactReader(const uint8_t* data, size_t size) {
  for (bool check_hashes : {true, false}) {
    auto reader = ArtifactReader::FromBytes(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pjit",
                                            ArtifactReaderOptions{check_hashes});
    if (!reader.ok()) continue;
    auto program = (*reader)->LoadProgram();
    if (program.ok()) PrintModule(**program);
    auto devices = (*reader)->LoadDevicePrograms();
    for (size_t i = 0; i < (*reader)->blobs().size(); ++i) (*reader)->blob_bytes(i);
  }
}

}  // namespace pjit
