#include "inspect/artifact_diff.h"

#include <map>

#include "inspect/units.h"

namespace pjit {
namespace {

std::string MeshText(const Mesh& m) {
  std::string out;
  for (const MeshAxis& a : m.axes) out += (out.empty() ? "" : ",") + a.name + "=" + std::to_string(a.size);
  return out;
}

std::string ShardingText(const std::optional<HloSharding>& s) { return s ? s->ToString() : "{replicated}"; }

struct ArrayChange {
  std::string what, before, after;
};

std::vector<ArrayChange> ArrayChanges(const char* kind, const std::vector<ArrayInfo>& a, const std::vector<ArrayInfo>& b) {
  std::vector<ArrayChange> out;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string what = std::string(kind) + " " + std::to_string(i) + " " + (i < a.size() ? a[i].name : b[i].name);
    std::string before = i < a.size() ? a[i].shape.ToString(false) + " " + ShardingText(a[i].sharding) + " per device " + a[i].shard_shape.ToString(false) : "(none)";
    std::string after = i < b.size() ? b[i].shape.ToString(false) + " " + ShardingText(b[i].sharding) + " per device " + b[i].shard_shape.ToString(false) : "(none)";
    if (before != after) out.push_back({what, before, after});
  }
  return out;
}

std::vector<ArrayChange> ShardingChanges(const Module& a, const Module& b) {
  std::vector<ArrayChange> out;
  for (const auto& c : a.computations)
    for (const auto& in : c->instructions) {
      const Instruction* other = b.FindInstruction(in->name);
      if (!other) continue;
      std::string before = ShardingText(in->sharding), after = ShardingText(other->sharding);
      if (before != after) out.push_back({in->name, before, after});
    }
  return out;
}

// Collectives by what caused them: kind, cause and moved value.
std::map<std::string, std::vector<const CollectiveRecord*>> ByCause(const std::vector<CollectiveRecord>& records) {
  std::map<std::string, std::vector<const CollectiveRecord*>> out;
  for (const CollectiveRecord& r : records) {
    const SpmdOrigin& o = r.instruction->spmd_origin;
    out[std::string(OpcodeName(r.instruction->opcode)) + " caused by " + (o.instruction.empty() ? "?" : o.instruction) +
        (o.resharded.empty() ? "" : " moving " + o.resharded)].push_back(&r);
  }
  return out;
}

struct Facts {
  std::vector<CollectiveRecord> collectives;
  uint64_t bytes = 0, peak = 0, arena = 0;
  double seconds = 0;
};

Facts FactsOf(const InspectedArtifact& x, const LinkModel& link) {
  Facts f;
  if (const LoadedDeviceProgram* p = x.ProgramOf(-1)) f.collectives = CollectCollectives(*p->module, *x.global, x.reader->mesh(), link);
  for (const CollectiveRecord& r : f.collectives) {
    f.bytes += r.bytes_sent;
    f.seconds += r.seconds;
  }
  for (const ThunkSequence& s : x.plan.sequences) {
    f.peak = std::max(f.peak, s.peak_bytes);
    f.arena = std::max(f.arena, s.arena_bytes);
  }
  return f;
}

std::string Totals(const Facts& f) {
  return Plural(static_cast<int64_t>(f.collectives.size()), "collective") + ", " + FormatBytes(f.bytes) + " sent per device, about " + FormatSeconds(f.seconds);
}

}  // namespace

std::string DiffText(const InspectedArtifact& a, const InspectedArtifact& b, const LinkModel& link) {
  std::string out = "--- " + a.path + "\n+++ " + b.path + "\n";
  std::string ma = MeshText(a.reader->mesh()), mb = MeshText(b.reader->mesh());
  out += ma == mb ? "mesh: " + ma + " (same)\n" : "mesh:\n- " + ma + "\n+ " + mb + "\n";
  std::vector<ArrayChange> arrays = ArrayChanges("input", a.reader->signature().inputs, b.reader->signature().inputs);
  for (ArrayChange& c : ArrayChanges("output", a.reader->signature().outputs, b.reader->signature().outputs)) arrays.push_back(c);
  out += arrays.empty() ? "inputs and outputs: same shardings\n" : "inputs and outputs:\n";
  for (const ArrayChange& c : arrays) out += "  " + c.what + "\n  - " + c.before + "\n  + " + c.after + "\n";
  std::vector<ArrayChange> shardings = ShardingChanges(*a.global, *b.global);
  out += "instruction shardings: " + (shardings.empty() ? std::string("same\n") : std::to_string(shardings.size()) + " changed\n");
  for (const ArrayChange& c : shardings) out += "  " + c.what + "\n  - " + c.before + "\n  + " + c.after + "\n";
  Facts fa = FactsOf(a, link), fb = FactsOf(b, link);
  std::string ta = Totals(fa), tb = Totals(fb);
  out += ta == tb ? "collectives: " + ta + " (same totals)\n" : "collectives:\n- " + ta + "\n+ " + tb + "\n";
  auto ca = ByCause(fa.collectives), cb = ByCause(fb.collectives);
  for (const auto& [key, list] : ca)
    if (!cb.count(key) || cb[key].size() != list.size())
      out += "  - " + key + " (" + std::to_string(list.size()) + "x, " + FormatBytes(list[0]->bytes_sent) + " each)\n";
  for (const auto& [key, list] : cb)
    if (!ca.count(key) || ca[key].size() != list.size())
      out += "  + " + key + " (" + std::to_string(list.size()) + "x, " + FormatBytes(list[0]->bytes_sent) + " each)\n";
  std::string pa = "peak " + FormatBytes(fa.peak) + ", arena " + FormatBytes(fa.arena);
  std::string pb = "peak " + FormatBytes(fb.peak) + ", arena " + FormatBytes(fb.arena);
  out += pa == pb ? "memory per device: " + pa + " (same)\n" : "memory per device:\n- " + pa + "\n+ " + pb + "\n";
  return out;
}

void DiffJson(const InspectedArtifact& a, const InspectedArtifact& b, const LinkModel& link, JsonWriter& j) {
  auto pair = [&](const char* key, const std::string& x, const std::string& y) {
    j.Key(key).BeginObject().Key("a").String(x).Key("b").String(y).EndObject();
  };
  j.BeginObject();
  pair("mesh", MeshText(a.reader->mesh()), MeshText(b.reader->mesh()));
  std::vector<ArrayChange> arrays = ArrayChanges("input", a.reader->signature().inputs, b.reader->signature().inputs);
  for (ArrayChange& c : ArrayChanges("output", a.reader->signature().outputs, b.reader->signature().outputs)) arrays.push_back(c);
  j.Key("arrays").BeginArray();
  for (const ArrayChange& c : arrays) j.BeginObject().Key("array").String(c.what).Key("a").String(c.before).Key("b").String(c.after).EndObject();
  j.EndArray().Key("shardings").BeginArray();
  for (const ArrayChange& c : ShardingChanges(*a.global, *b.global))
    j.BeginObject().Key("instruction").String(c.what).Key("a").String(c.before).Key("b").String(c.after).EndObject();
  j.EndArray();
  Facts fa = FactsOf(a, link), fb = FactsOf(b, link);
  auto totals = [&](const char* key, const Facts& f) {
    j.Key(key).BeginObject().Key("collectives").Uint(f.collectives.size()).Key("bytes_sent").Uint(f.bytes).Key("seconds").Double(f.seconds);
    j.Key("peak_bytes").Uint(f.peak).Key("arena_bytes").Uint(f.arena).EndObject();
  };
  totals("a_totals", fa);
  totals("b_totals", fb);
  auto ca = ByCause(fa.collectives), cb = ByCause(fb.collectives);
  auto only = [&](const char* key, auto& x, auto& y) {
    j.Key(key).BeginArray();
    for (const auto& [k, list] : x)
      if (!y.count(k) || y[k].size() != list.size()) j.BeginObject().Key("collective").String(k).Key("count").Uint(list.size()).EndObject();
    j.EndArray();
  };
  only("collectives_only_in_a", ca, cb);
  only("collectives_only_in_b", cb, ca);
  j.EndObject();
}

}  // namespace pjit
