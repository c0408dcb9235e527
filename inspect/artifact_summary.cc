#include "inspect/artifact_summary.h"

#include <cstdio>

#include "format/partition_spec.h"
#include "inspect/json_writer.h"
#include "format/units.h"

namespace pjit {
namespace {

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The mesh's device ids laid out as its axes: rows the first axis, the rest flattened.
std::string DeviceGrid(const Mesh& mesh) {
  int64_t cols = mesh.axes.size() > 1 ? mesh.device_count() / mesh.axes[0].size : mesh.device_count();
  std::string out;
  for (size_t i = 0; i < mesh.device_ids.size(); ++i) {
    if (i % static_cast<size_t>(cols) == 0) out += "  ";
    out += std::to_string(mesh.device_ids[i]) + ((i + 1) % static_cast<size_t>(cols) ? " " : "\n");
  }
  return out;
}

std::string Spec(const ArrayInfo& a, const Mesh& mesh) {
  if (!a.sharding) return "P()";
  StatusOr<PartitionSpec> spec = ShardingToPartitionSpec(*a.sharding, mesh, a.shape.rank());
  return spec.ok() ? "P(" + spec->ToString() + ")" : "(no PartitionSpec)";
}

void ArraysText(const char* title, const std::vector<ArrayInfo>& arrays, const Mesh& mesh, std::string& out) {
  out += std::string(title) + ":\n";
  for (const ArrayInfo& a : arrays)
    out += "  " + std::to_string(a.index) + " " + a.name + ": " + a.shape.ToString(false) + "  " + Spec(a, mesh) + "  " +
           (a.sharding ? a.sharding->ToString() : "{replicated}") + "  per device " + a.shard_shape.ToString(false) + "\n";
}

void ArraysJson(const std::vector<ArrayInfo>& arrays, const Mesh& mesh, JsonWriter& j) {
  j.BeginArray();
  for (const ArrayInfo& a : arrays) {
    j.BeginObject().Key("index").Uint(a.index).Key("name").String(a.name).Key("shape").String(a.shape.ToString(false));
    j.Key("partition_spec").String(Spec(a, mesh)).Key("sharding");
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

std::string SummarizeArtifact(const InspectedArtifact& a, const LinkModel& link) {
  const ArtifactReader& r = *a.reader;
  const Producer& p = r.producer();
  std::string out = "artifact format " + std::to_string(r.format_major()) + "." + std::to_string(r.format_minor()) + ", " +
                    std::to_string(r.file_size()) + " bytes\n";
  out += "producer: " + p.tool + " " + p.version + " from " + p.source_name + " (xxh3 " + Hex(p.source_hash) + ")";
  for (const std::string& f : p.flags) out += " " + f;
  if (const std::optional<KeySignature>& k = r.key_signature())
    out += "\nsigned: " + k->algorithm + " key " + KeyHex(k->public_key) + " (pjit-run --verify KEY checks it)";
  else
    out += "\nsigned: no";
  out += "\nmesh: " + MeshToString(r.mesh()) + ", " + Plural(r.mesh().device_count(), "device") + ":\n" + DeviceGrid(r.mesh());
  ArraysText("inputs", r.signature().inputs, r.mesh(), out);
  ArraysText("outputs", r.signature().outputs, r.mesh(), out);
  CollectiveTotals t = SumCollectives(CollectivesOf(a, link));
  out += t.count ? "collectives: " + std::to_string(t.count) + ", " + FormatBytes(t.bytes_sent) + " sent per device, about " +
                       FormatSeconds(t.seconds) + " (--collectives)\n"
                 : "collectives: none\n";
  out += "memory: peak " + FormatBytes(a.peak_bytes()) + " per device (--memory)\n";
  out += "targets:";
  for (const ExecutableInfo& e : a.plan.executables) out += " " + e.target + " (" + e.format + ", " + std::to_string(e.kernels.size()) + " kernels)";
  out += a.plan.executables.empty() ? " none\n" : " (--binaries)\n";
  out += "sections:\n";
  for (const SectionInfo& s : r.sections()) {
    char line[96];
    std::snprintf(line, sizeof line, "  %-16s %10llu bytes  xxh3 %s\n", s.name.c_str(), static_cast<unsigned long long>(s.bytes), Hex(s.hash).c_str());
    out += line;
  }
  out += "blobs: " + std::to_string(r.blobs().size()) + " (" + std::to_string(BlobBytes(r)) + " bytes)\n";
  return out;
}

std::string SummarizeArtifactJson(const InspectedArtifact& a, const LinkModel& link) {
  const ArtifactReader& r = *a.reader;
  const Producer& p = r.producer();
  JsonWriter j;
  j.BeginObject();
  j.Key("format").String(std::to_string(r.format_major()) + "." + std::to_string(r.format_minor()));
  j.Key("file_bytes").Uint(r.file_size());
  j.Key("producer").BeginObject().Key("tool").String(p.tool).Key("version").String(p.version);
  j.Key("flags").BeginArray();
  for (const std::string& f : p.flags) j.String(f);
  j.EndArray().Key("source").String(p.source_name).Key("source_xxh3").String(Hex(p.source_hash)).EndObject();
  j.Key("key_signature");
  if (const std::optional<KeySignature>& k = r.key_signature())
    j.BeginObject().Key("algorithm").String(k->algorithm).Key("public_key").String(KeyHex(k->public_key)).EndObject();
  else
    j.Null();
  j.Key("mesh").BeginObject().Key("axes").BeginArray();
  for (const MeshAxis& m : r.mesh().axes) j.BeginObject().Key("name").String(m.name).Key("size").Int(m.size).EndObject();
  j.EndArray().Key("device_ids").BeginArray();
  for (int64_t d : r.mesh().device_ids) j.Int(d);
  j.EndArray().EndObject();
  j.Key("inputs");
  ArraysJson(r.signature().inputs, r.mesh(), j);
  j.Key("outputs");
  ArraysJson(r.signature().outputs, r.mesh(), j);
  CollectiveTotals t = SumCollectives(CollectivesOf(a, link));
  j.Key("collectives").BeginObject().Key("count").Uint(t.count).Key("bytes_sent").Uint(t.bytes_sent).Key("seconds").Double(t.seconds).EndObject();
  j.Key("peak_bytes_per_device").Uint(a.peak_bytes());
  j.Key("targets").BeginArray();
  for (const ExecutableInfo& e : a.plan.executables)
    j.BeginObject().Key("target").String(e.target).Key("format").String(e.format).Key("kernels").Uint(e.kernels.size()).EndObject();
  j.EndArray();
  j.Key("sections").BeginArray();
  for (const SectionInfo& s : r.sections())
    j.BeginObject().Key("name").String(s.name).Key("bytes").Uint(s.bytes).Key("xxh3").String(Hex(s.hash)).EndObject();
  j.EndArray();
  j.Key("blobs").BeginObject().Key("count").Uint(r.blobs().size()).Key("bytes").Uint(BlobBytes(r)).EndObject();
  j.EndObject();
  return j.Finish();
}

}  // namespace pjit
