#include "inspect/artifact_diff.h"

#include <map>

#include "format/partition_spec.h"
#include "format/units.h"

namespace pjit {
namespace {

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

// The collectives one side has more of than the other: "kind caused by X moving Y", count,
// bytes each.
struct CauseDelta {
  std::string cause;
  size_t count;
  uint64_t bytes_each;
};

std::vector<CauseDelta> OnlyIn(const std::map<std::string, std::vector<const CollectiveRecord*>>& x,
                               const std::map<std::string, std::vector<const CollectiveRecord*>>& y) {
  std::vector<CauseDelta> out;
  for (const auto& [key, list] : x) {
    auto other = y.find(key);
    if (other == y.end() || other->second.size() != list.size()) out.push_back({key, list.size(), list[0]->bytes_sent});
  }
  return out;
}

struct Side {
  std::vector<CollectiveRecord> collectives;
  CollectiveTotals totals;
  uint64_t peak = 0, arena = 0;
};

// Everything the text and JSON forms show, computed once.
struct Comparison {
  std::string mesh_a, mesh_b;
  std::vector<ArrayChange> arrays, shardings;
  Side a, b;
  std::vector<CauseDelta> only_in_a, only_in_b;
};

Side SideOf(const InspectedArtifact& x, const LinkModel& link) {
  Side s;
  s.collectives = CollectivesOf(x, link);
  s.totals = SumCollectives(s.collectives);
  s.peak = x.peak_bytes();
  s.arena = x.arena_bytes();
  return s;
}

Comparison Compare(const InspectedArtifact& a, const InspectedArtifact& b, const LinkModel& link) {
  Comparison c;
  c.mesh_a = MeshToString(a.reader->mesh());
  c.mesh_b = MeshToString(b.reader->mesh());
  c.arrays = ArrayChanges("input", a.reader->signature().inputs, b.reader->signature().inputs);
  for (ArrayChange& x : ArrayChanges("output", a.reader->signature().outputs, b.reader->signature().outputs)) c.arrays.push_back(x);
  c.shardings = ShardingChanges(*a.global, *b.global);
  c.a = SideOf(a, link);
  c.b = SideOf(b, link);
  auto ca = ByCause(c.a.collectives), cb = ByCause(c.b.collectives);
  c.only_in_a = OnlyIn(ca, cb);
  c.only_in_b = OnlyIn(cb, ca);
  return c;
}

std::string TotalsText(const Side& s) {
  return Plural(static_cast<int64_t>(s.totals.count), "collective") + ", " + FormatBytes(s.totals.bytes_sent) +
         " sent per device, about " + FormatSeconds(s.totals.seconds);
}

}  // namespace

std::string DiffText(const InspectedArtifact& a, const InspectedArtifact& b, const LinkModel& link) {
  Comparison c = Compare(a, b, link);
  std::string out = "--- " + a.path + "\n+++ " + b.path + "\n";
  out += c.mesh_a == c.mesh_b ? "mesh: " + c.mesh_a + " (same)\n" : "mesh:\n- " + c.mesh_a + "\n+ " + c.mesh_b + "\n";
  out += c.arrays.empty() ? "inputs and outputs: same shardings\n" : "inputs and outputs:\n";
  for (const ArrayChange& x : c.arrays) out += "  " + x.what + "\n  - " + x.before + "\n  + " + x.after + "\n";
  out += "instruction shardings: " + (c.shardings.empty() ? std::string("same\n") : std::to_string(c.shardings.size()) + " changed\n");
  for (const ArrayChange& x : c.shardings) out += "  " + x.what + "\n  - " + x.before + "\n  + " + x.after + "\n";
  std::string ta = TotalsText(c.a), tb = TotalsText(c.b);
  out += ta == tb ? "collectives: " + ta + " (same totals)\n" : "collectives:\n- " + ta + "\n+ " + tb + "\n";
  for (const auto& [sign, deltas] : {std::pair{"-", &c.only_in_a}, std::pair{"+", &c.only_in_b}})
    for (const CauseDelta& d : *deltas)
      out += std::string("  ") + sign + " " + d.cause + " (" + std::to_string(d.count) + "x, " + FormatBytes(d.bytes_each) + " each)\n";
  std::string pa = "peak " + FormatBytes(c.a.peak) + ", arena " + FormatBytes(c.a.arena);
  std::string pb = "peak " + FormatBytes(c.b.peak) + ", arena " + FormatBytes(c.b.arena);
  out += pa == pb ? "memory per device: " + pa + " (same)\n" : "memory per device:\n- " + pa + "\n+ " + pb + "\n";
  return out;
}

void DiffJson(const InspectedArtifact& a, const InspectedArtifact& b, const LinkModel& link, JsonWriter& j) {
  Comparison c = Compare(a, b, link);
  j.BeginObject();
  j.Key("mesh").BeginObject().Key("a").String(c.mesh_a).Key("b").String(c.mesh_b).EndObject();
  j.Key("arrays").BeginArray();
  for (const ArrayChange& x : c.arrays) j.BeginObject().Key("array").String(x.what).Key("a").String(x.before).Key("b").String(x.after).EndObject();
  j.EndArray().Key("shardings").BeginArray();
  for (const ArrayChange& x : c.shardings)
    j.BeginObject().Key("instruction").String(x.what).Key("a").String(x.before).Key("b").String(x.after).EndObject();
  j.EndArray();
  for (const auto& [key, side] : {std::pair{"a_totals", &c.a}, std::pair{"b_totals", &c.b}}) {
    j.Key(key).BeginObject().Key("collectives").Uint(side->totals.count).Key("bytes_sent").Uint(side->totals.bytes_sent);
    j.Key("seconds").Double(side->totals.seconds).Key("peak_bytes").Uint(side->peak).Key("arena_bytes").Uint(side->arena).EndObject();
  }
  for (const auto& [key, deltas] : {std::pair{"collectives_only_in_a", &c.only_in_a}, std::pair{"collectives_only_in_b", &c.only_in_b}}) {
    j.Key(key).BeginArray();
    for (const CauseDelta& d : *deltas) j.BeginObject().Key("collective").String(d.cause).Key("count").Uint(d.count).EndObject();
    j.EndArray();
  }
  j.EndObject();
}

}  // namespace pjit
