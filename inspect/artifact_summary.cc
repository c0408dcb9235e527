#include "inspect/artifact_summary.h"

#include <cstdio>

#include "inspect/json_writer.h"

namespace pjit {
namespace {

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string MeshText(const Mesh& mesh) {
  std::string out;
  for (size_t i = 0; i < mesh.axes.size(); ++i) out += (i ? "," : "") + mesh.axes[i].name + "=" + std::to_string(mesh.axes[i].size);
  out += " (devices";
  for (int64_t d : mesh.device_ids) out += " " + std::to_string(d);
  return out + ")";
}

void ArraysText(const char* title, const std::vector<ArrayInfo>& arrays, std::string& out) {
  out += std::string(title) + ":\n";
  for (const ArrayInfo& a : arrays)
    out += "  " + std::to_string(a.index) + " " + a.name + ": " + a.shape.ToString(false) +
           (a.sharding ? "  sharding=" + a.sharding->ToString() : "") + "  per device " + a.shard_shape.ToString(false) + "\n";
}

void ArraysJson(const std::vector<ArrayInfo>& arrays, JsonWriter& j) {
  j.BeginArray();
  for (const ArrayInfo& a : arrays) {
    j.BeginObject().Key("index").Uint(a.index).Key("name").String(a.name).Key("shape").String(a.shape.ToString(false));
    j.Key("sharding");
    if (a.sharding) j.String(a.sharding->ToString());
    else j.Null();
    j.Key("shard_shape").String(a.shard_shape.ToString(false)).EndObject();
  }
  j.EndArray();
}

uint64_t BlobBytes(const ArtifactReader& r) {
  uint64_t total = 0;
  for (const BlobInfo& b : r.blobs()) total += b.size;
  return total;
}

}  // namespace

std::string SummarizeArtifact(const ArtifactReader& r) {
  const Producer& p = r.producer();
  std::string out = "artifact format " + std::to_string(r.format_major()) + "." + std::to_string(r.format_minor()) + ", " +
                    std::to_string(r.file_size()) + " bytes\n";
  out += "producer: " + p.tool + " " + p.version + " from " + p.source_name + " (xxh3 " + Hex(p.source_hash) + ")";
  for (const std::string& f : p.flags) out += " " + f;
  out += "\nmesh: " + MeshText(r.mesh()) + "\n";
  ArraysText("inputs", r.signature().inputs, out);
  ArraysText("outputs", r.signature().outputs, out);
  out += "sections:\n";
  for (const SectionInfo& s : r.sections()) {
    char line[96];
    std::snprintf(line, sizeof line, "  %-16s %10llu bytes  xxh3 %s\n", s.name.c_str(), static_cast<unsigned long long>(s.bytes), Hex(s.hash).c_str());
    out += line;
  }
  out += "blobs: " + std::to_string(r.blobs().size()) + " (" + std::to_string(BlobBytes(r)) + " bytes)\n";
  return out;
}

std::string SummarizeArtifactJson(const ArtifactReader& r) {
  const Producer& p = r.producer();
  JsonWriter j;
  j.BeginObject();
  j.Key("format").String(std::to_string(r.format_major()) + "." + std::to_string(r.format_minor()));
  j.Key("file_bytes").Uint(r.file_size());
  j.Key("producer").BeginObject().Key("tool").String(p.tool).Key("version").String(p.version);
  j.Key("flags").BeginArray();
  for (const std::string& f : p.flags) j.String(f);
  j.EndArray().Key("source").String(p.source_name).Key("source_xxh3").String(Hex(p.source_hash)).EndObject();
  j.Key("mesh").BeginObject().Key("axes").BeginArray();
  for (const MeshAxis& a : r.mesh().axes) j.BeginObject().Key("name").String(a.name).Key("size").Int(a.size).EndObject();
  j.EndArray().Key("device_ids").BeginArray();
  for (int64_t d : r.mesh().device_ids) j.Int(d);
  j.EndArray().EndObject();
  j.Key("inputs");
  ArraysJson(r.signature().inputs, j);
  j.Key("outputs");
  ArraysJson(r.signature().outputs, j);
  j.Key("sections").BeginArray();
  for (const SectionInfo& s : r.sections())
    j.BeginObject().Key("name").String(s.name).Key("bytes").Uint(s.bytes).Key("xxh3").String(Hex(s.hash)).EndObject();
  j.EndArray();
  j.Key("blobs").BeginObject().Key("count").Uint(r.blobs().size()).Key("bytes").Uint(BlobBytes(r)).EndObject();
  j.EndObject();
  return j.Finish();
}

}  // namespace pjit
