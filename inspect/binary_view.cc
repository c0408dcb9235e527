#include "inspect/binary_view.h"

#include <cstdio>
#include <map>

#include "format/file_util.h"
#include "format/units.h"

namespace pjit {
namespace {

// The binary blob of each target.
std::map<std::string, size_t> BinaryBlobs(const ArtifactReader& r) {
  std::map<std::string, size_t> out;
  for (size_t i = 0; i < r.blobs().size(); ++i)
    if (r.blobs()[i].kind == "BINARY") out.emplace(r.blobs()[i].target, i);
  return out;
}

}  // namespace

std::string BinariesText(const InspectedArtifact& a) {
  const ArtifactReader& r = *a.reader;
  std::map<std::string, size_t> binaries = BinaryBlobs(r);
  std::string out = "targets:\n";
  if (a.plan.executables.empty()) out += "  none (the artifact has no executables section)\n";
  for (const ExecutableInfo& e : a.plan.executables) {
    auto blob = binaries.find(e.target);
    out += "  " + e.target + "  format " + e.format + ", " + std::to_string(e.kernels.size()) + " kernels, ";
    out += blob != binaries.end() ? FormatBytes(r.blobs()[blob->second].size) + " binary"
                                  : "no binary: each kernel is an instruction of the device program, run by the platform's reference kernels";
    if (!e.cpu.empty()) {
      std::string features;
      for (const std::string& f : e.cpu_features) features += (features.empty() ? "" : ",") + f;
      out += ", for CPU " + e.cpu + " (needs " + (features.empty() ? std::string("no extensions") : features) + ")";
    }
    if (e.format == "ptx") out += ", PTX the CUDA driver compiles for a GPU that no cubin fits";
    if (e.format == "cubin") out += ", machine code for " + e.target + " GPUs";
    out += "\n";
  }
  out += "blobs:\n";
  if (r.blobs().empty()) out += "  none\n";
  for (const BlobInfo& b : r.blobs()) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-8s %10s  %s%s%s\n", b.kind.c_str(), FormatBytes(b.size).c_str(), b.name.c_str(),
                  b.target.empty() ? "" : ("  target " + b.target).c_str(),
                  b.device < 0 ? "" : ("  device " + std::to_string(b.device)).c_str());
    out += line;
  }
  return out;
}

void BinariesJson(const InspectedArtifact& a, JsonWriter& j) {
  const ArtifactReader& r = *a.reader;
  std::map<std::string, size_t> binaries = BinaryBlobs(r);
  j.BeginObject().Key("targets").BeginArray();
  for (const ExecutableInfo& e : a.plan.executables) {
    auto blob = binaries.find(e.target);
    j.BeginObject().Key("target").String(e.target).Key("format").String(e.format).Key("kernels").BeginArray();
    for (const std::string& k : e.kernels) j.String(k);
    j.EndArray().Key("cpu").String(e.cpu).Key("cpu_features").BeginArray();
    for (const std::string& f : e.cpu_features) j.String(f);
    j.EndArray().Key("binary_bytes");
    if (blob != binaries.end()) j.Uint(r.blobs()[blob->second].size);
    else j.Null();
    j.EndObject();
  }
  j.EndArray().Key("blobs").BeginArray();
  for (const BlobInfo& b : r.blobs())
    j.BeginObject().Key("name").String(b.name).Key("kind").String(b.kind).Key("target").String(b.target).Key("device").Int(b.device)
        .Key("bytes").Uint(b.size).EndObject();
  j.EndArray().EndObject();
}

StatusOr<std::string> ExtractBinary(const InspectedArtifact& a, const std::string& name, const std::string& output) {
  const ArtifactReader& r = *a.reader;
  std::map<std::string, size_t> binaries = BinaryBlobs(r);
  std::optional<size_t> index;
  if (auto it = binaries.find(name); it != binaries.end()) index = it->second;
  for (size_t i = 0; !index && i < r.blobs().size(); ++i)
    if (r.blobs()[i].name == name) index = i;
  if (!index) {
    for (const ExecutableInfo& e : a.plan.executables)
      if (e.target == name)
        return InvalidArgument(a.path, ": executables: target '", name, "' has no binary (its kernels are instructions of the device program)");
    std::string known;
    for (const ExecutableInfo& e : a.plan.executables) known += (known.empty() ? "" : ", ") + e.target;
    return InvalidArgument(a.path, ": blobs: no target or blob named '", name, "'", known.empty() ? "" : " (targets: " + known + ")",
                           "; pjit-inspect --binaries lists them");
  }
  const BlobInfo& b = r.blobs()[*index];
  if (output == "-") return std::string(r.blob_bytes(*index));  // the bytes themselves, for standard output
  if (output == a.path || SameFile(output, a.path)) return InvalidArgument("-o ", output, ": is the artifact being inspected");
  PJIT_RETURN_IF_ERROR(WriteFileAtomically(output, r.blob_bytes(*index)));
  return StrCat("wrote ", b.kind == "BINARY" ? "the " + b.target + " binary" : b.kind + " blob '" + b.name + "'", " (", b.size,
                " bytes) to ", output, "\n");
}

}  // namespace pjit
