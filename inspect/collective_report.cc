#include "inspect/collective_report.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "inspect/source_location.h"
#include "format/units.h"

namespace pjit {
namespace {

// The mesh axes along which the members of each group differ.
std::vector<std::string> AxesSpanned(const std::vector<std::vector<int64_t>>& groups, const Mesh& mesh) {
  std::map<int64_t, std::vector<int64_t>> coords;  // device id -> mesh coordinates
  for (size_t p = 0; p < mesh.device_ids.size(); ++p) {
    std::vector<int64_t> c(mesh.axes.size());
    int64_t rest = static_cast<int64_t>(p);
    for (size_t a = mesh.axes.size(); a-- > 0;) {
      c[a] = rest % mesh.axes[a].size;
      rest /= mesh.axes[a].size;
    }
    coords[mesh.device_ids[p]] = std::move(c);
  }
  std::vector<bool> spans(mesh.axes.size(), false);
  for (const std::vector<int64_t>& g : groups)
    for (int64_t d : g)
      for (size_t a = 0; a < mesh.axes.size(); ++a)
        if (coords.count(d) && coords.count(g[0]) && coords[d][a] != coords[g[0]][a]) spans[a] = true;
  std::vector<std::string> out;
  for (size_t a = 0; a < mesh.axes.size(); ++a)
    if (spans[a]) out.push_back(mesh.axes[a].name);
  return out;
}

void Cost(CollectiveRecord& r, const LinkModel& link) {
  const Instruction& in = *r.instruction;
  const uint64_t g = static_cast<uint64_t>(r.group_size), s = r.input_bytes;
  switch (in.opcode) {
    case Opcode::kAllGather: r.bytes_sent = (g - 1) * s; r.steps = static_cast<int64_t>(g - 1); break;
    case Opcode::kReduceScatter:
    case Opcode::kAllToAll: r.bytes_sent = (g - 1) * s / g; r.steps = static_cast<int64_t>(g - 1); break;
    case Opcode::kAllReduce: r.bytes_sent = 2 * (g - 1) * s / g; r.steps = 2 * static_cast<int64_t>(g - 1); break;
    case Opcode::kCollectivePermute: {
      bool moves = std::any_of(in.source_target_pairs.begin(), in.source_target_pairs.end(),
                               [](const auto& p) { return p.first != p.second; });
      r.bytes_sent = moves ? s : 0;
      r.steps = moves ? 1 : 0;
      break;
    }
    default: break;
  }
  r.seconds = static_cast<double>(r.steps) * link.latency + static_cast<double>(r.bytes_sent) / link.bandwidth;
}

std::string GroupsText(const Instruction& in) {
  auto list = [](const std::vector<int64_t>& v) {
    std::string s = "{";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "}";
  };
  std::string out;
  if (in.opcode == Opcode::kCollectivePermute) {
    for (const auto& [s, t] : in.source_target_pairs) out += (out.empty() ? "" : ",") + std::string("{") + std::to_string(s) + "," + std::to_string(t) + "}";
    return "pairs={" + out + "}";
  }
  if (in.replica_groups.groups.empty()) return "groups={} (all devices)";
  for (const auto& g : in.replica_groups.groups) out += (out.empty() ? "" : ",") + list(g);
  return "groups={" + out + "}";
}

std::string OperandShapes(const Instruction& in) {
  std::string out;
  for (const Instruction* o : in.operands) out += (out.empty() ? "" : ", ") + o->shape.ToString(false);
  return out;
}

}  // namespace

std::vector<CollectiveRecord> CollectCollectives(const Module& device_program, const Module& global, const Mesh& mesh,
                                                 const LinkModel& link) {
  std::vector<CollectiveRecord> out;
  for (const auto& c : device_program.computations)
    for (const auto& in : c->instructions) {
      if (!IsCollective(in->opcode)) continue;
      CollectiveRecord r;
      r.instruction = in.get();
      if (c.get() != device_program.entry) r.computation = c->name;
      std::vector<std::vector<int64_t>> groups = in->replica_groups.groups;
      if (in->opcode == Opcode::kCollectivePermute) {
        groups.clear();
        for (const auto& [s, t] : in->source_target_pairs) groups.push_back({s, t});
        r.group_size = 2;
      } else {
        if (groups.empty()) groups.push_back(mesh.device_ids);
        r.group_size = static_cast<int64_t>(groups[0].size());
      }
      r.mesh_axes = AxesSpanned(groups, mesh);
      for (const Instruction* o : in->operands) r.input_bytes += static_cast<uint64_t>(o->shape.ByteSize());
      r.cause = in->spmd_origin.instruction.empty() ? nullptr : global.FindInstruction(in->spmd_origin.instruction);
      Cost(r, link);
      out.push_back(std::move(r));
    }
  std::stable_sort(out.begin(), out.end(), [](const CollectiveRecord& a, const CollectiveRecord& b) { return a.seconds > b.seconds; });
  return out;
}

std::vector<CollectiveRecord> CollectivesOf(const InspectedArtifact& a, const LinkModel& link) {
  const LoadedDeviceProgram* p = a.ProgramOf(-1);
  return p ? CollectCollectives(*p->module, *a.global, a.reader->mesh(), link) : std::vector<CollectiveRecord>{};
}

CollectiveTotals SumCollectives(const std::vector<CollectiveRecord>& records) {
  CollectiveTotals t;
  for (const CollectiveRecord& r : records) {
    ++t.count;
    t.bytes_sent += r.bytes_sent;
    t.seconds += r.seconds;
  }
  return t;
}

std::string CollectivesText(const std::vector<CollectiveRecord>& records, const LinkModel& link) {
  char bandwidth[32];
  std::snprintf(bandwidth, sizeof bandwidth, "%.3g GB/s", link.bandwidth / 1e9);
  std::string out = "link model: " + std::string(bandwidth) + " per device, " + FormatSeconds(link.latency) +
                    " per step (--link-bandwidth, --link-latency)\n";
  if (records.empty()) return out + "no collectives: every device computes its part alone\n";
  CollectiveTotals total = SumCollectives(records);
  std::map<std::string, int> kinds;
  for (const CollectiveRecord& r : records) kinds[std::string(OpcodeName(r.instruction->opcode))]++;
  std::string counts;
  for (const auto& [k, n] : kinds) counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + k;
  out += Plural(static_cast<int64_t>(records.size()), "collective") + " (" + counts + "): " + FormatBytes(total.bytes_sent) +
         " sent per device, about " + FormatSeconds(total.seconds) + "\n";
  int rank = 0;
  for (const CollectiveRecord& r : records) {
    const Instruction& in = *r.instruction;
    const SpmdOrigin& o = in.spmd_origin;
    out += "\n" + std::to_string(++rank) + ". " + std::string(OpcodeName(in.opcode)) + " " + in.name + "  " + OperandShapes(in) +
           " -> " + in.shape.ToString(false) + "\n";
    std::string axes;
    for (const std::string& a : r.mesh_axes) axes += (axes.empty() ? "" : ",") + a;
    out += "   over " + (axes.empty() ? std::string("no mesh axis") : "mesh axes " + axes) + " (" + std::to_string(r.group_size) +
           " devices per group)  " + GroupsText(in) + "\n";
    out += "   sends " + FormatBytes(r.bytes_sent) + " per device in " + Plural(r.steps, "step") + ", about " +
           FormatSeconds(r.seconds) + (r.computation.empty() ? "" : "  (in " + r.computation + ": each time it runs)") + "\n";
    if (!o.instruction.empty()) {
      std::string where = r.cause ? SourceLocation(*r.cause) : "";
      out += "   caused by " + o.instruction + (where.empty() ? "" : " (" + where + ")");
      if (!o.resharded.empty())
        out += ": its operand " + o.resharded + " is " + o.from_sharding + " but it needs " + o.to_sharding;
      out += "\n";
      if (!o.resharded.empty()) out += "   (pjit-inspect --explain " + o.resharded + " shows why " + o.resharded + " has its sharding)\n";
    }
    if (o.fallback)
      out += "   warning: full replication: pjit does not partition " + o.instruction + " yet, so its operand is gathered in full\n";
  }
  return out;
}

void CollectivesJson(const std::vector<CollectiveRecord>& records, const LinkModel& link, JsonWriter& j) {
  j.BeginObject().Key("link").BeginObject().Key("bandwidth_bytes_per_s").Double(link.bandwidth).Key("latency_s").Double(link.latency).EndObject();
  CollectiveTotals total = SumCollectives(records);
  j.Key("total").BeginObject().Key("count").Uint(total.count).Key("bytes_sent").Uint(total.bytes_sent).Key("seconds").Double(total.seconds).EndObject();
  j.Key("collectives").BeginArray();
  for (const CollectiveRecord& r : records) {
    const Instruction& in = *r.instruction;
    const SpmdOrigin& o = in.spmd_origin;
    j.BeginObject().Key("kind").String(OpcodeName(in.opcode)).Key("name").String(in.name).Key("computation").String(r.computation);
    j.Key("operand_shapes").BeginArray();
    for (const Instruction* op : in.operands) j.String(op->shape.ToString(false));
    j.EndArray().Key("shape").String(in.shape.ToString(false));
    j.Key("groups").BeginArray();
    for (const auto& g : in.replica_groups.groups) {
      j.BeginArray();
      for (int64_t d : g) j.Int(d);
      j.EndArray();
    }
    j.EndArray().Key("source_target_pairs").BeginArray();
    for (const auto& [s, t] : in.source_target_pairs) j.BeginArray().Int(s).Int(t).EndArray();
    j.EndArray().Key("group_size").Int(r.group_size).Key("mesh_axes").BeginArray();
    for (const std::string& a : r.mesh_axes) j.String(a);
    j.EndArray().Key("input_bytes").Uint(r.input_bytes).Key("bytes_sent").Uint(r.bytes_sent).Key("steps").Int(r.steps);
    j.Key("seconds").Double(r.seconds).Key("cause").String(o.instruction);
    j.Key("location").String(r.cause ? r.cause->location : "").Key("resharded").String(o.resharded);
    j.Key("from_sharding").String(o.from_sharding).Key("to_sharding").String(o.to_sharding).Key("full_replication").Bool(o.fallback);
    j.EndObject();
  }
  j.EndArray().EndObject();
}

}  // namespace pjit
