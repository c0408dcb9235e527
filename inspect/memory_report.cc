#include "inspect/memory_report.h"

#include <algorithm>
#include <cstdio>

#include "format/plan_memory.h"
#include "format/units.h"

namespace pjit {

const char* BufferKindName(BufferInfo::Kind kind) {
  switch (kind) {
    case BufferInfo::Kind::kParameter: return "parameter";
    case BufferInfo::Kind::kOutput: return "output";
    case BufferInfo::Kind::kConstant: return "constant";
    case BufferInfo::Kind::kTemporary: return "temporary";
    case BufferInfo::Kind::kScratch: return "scratch";
  }
  return "?";
}

StatusOr<std::vector<MemoryReport>> BuildMemoryReports(const ThunkPlan& plan, const Module& device_program,
                                                       const Signature& signature, int64_t num_devices) {
  std::vector<MemoryReport> out;
  const Computation& entry = *device_program.entry;
  const int64_t end = static_cast<int64_t>(entry.instructions.size());
  for (size_t s = 0; s < plan.sequences.size(); ++s) {
    const ThunkSequence& seq = plan.sequences[s];
    if (seq.buffers.empty())
      return InvalidArgument("thunks: sequence ", s, " has no buffer table (written by an older pjit-compile; recompile it)");
    MemoryReport r;
    r.device = seq.device;
    r.num_devices = num_devices;
    r.arena_bytes = seq.arena_bytes;
    for (const BufferInfo& b : seq.buffers) {
      r.kind_bytes[static_cast<int>(b.kind)] += b.slice.size;
      r.kind_count[static_cast<int>(b.kind)]++;
    }
    PJIT_ASSIGN_OR_RETURN(PlanPeak peak, FindPlanPeak(seq, end));
    r.peak_bytes = peak.bytes;
    r.peak_position = peak.position;
    r.peak_instruction = r.peak_position < end ? entry.instructions[static_cast<size_t>(r.peak_position)]->name : "(end)";
    for (const BufferInfo* b : peak.live) {
      MemoryReport::LiveBuffer live{b, b->instruction, BufferShape(*b, device_program)};
      if (const Instruction* in = BufferOwner(*b, device_program); in && in->shape.IsTuple() && b->kind != BufferInfo::Kind::kScratch)
        live.name += "{" + std::to_string(b->leaf) + "}";
      r.live_at_peak.push_back(std::move(live));
    }
    for (const ArrayInfo& a : signature.inputs) r.global_input_bytes += static_cast<uint64_t>(a.shape.ByteSize());
    for (const ArrayInfo& a : signature.outputs) r.global_output_bytes += static_cast<uint64_t>(a.shape.ByteSize());
    out.push_back(std::move(r));
  }
  return out;
}

std::string MemoryText(const std::vector<MemoryReport>& reports, size_t limit) {
  std::string out;
  for (const MemoryReport& r : reports) {
    out += r.device < 0 ? "every device (" + std::to_string(r.num_devices) + ") runs one plan:\n" : "device " + std::to_string(r.device) + ":\n";
    out += "  arena " + FormatBytes(r.arena_bytes) + ", peak " + FormatBytes(r.peak_bytes) + " live at position " +
           std::to_string(r.peak_position) + " (" + r.peak_instruction + ")\n";
    const char* kinds[] = {"parameters", "outputs", "constants", "temporaries", "scratch"};
    for (int k = 0; k < kBufferKinds; ++k) {
      if (!r.kind_count[k]) continue;
      char line[160];
      std::snprintf(line, sizeof line, "  %-12s %10s in %s", kinds[k], FormatBytes(r.kind_bytes[k]).c_str(),
                    Plural(r.kind_count[k], "buffer").c_str());
      out += line;
      if (k == 0 && r.global_input_bytes) out += " (the global inputs: " + FormatBytes(r.global_input_bytes) + ")";
      if (k == 1 && r.global_output_bytes) out += " (the global outputs: " + FormatBytes(r.global_output_bytes) + ")";
      out += "\n";
    }
    out += "  live at the peak:\n";
    size_t shown = 0;
    for (const MemoryReport::LiveBuffer& live : r.live_at_peak) {
      const BufferInfo* b = live.buffer;
      if (limit && shown == limit) {
        out += "    ... " + std::to_string(r.live_at_peak.size() - shown) + " more (--all lists them)\n";
        break;
      }
      char line[256];
      std::snprintf(line, sizeof line, "    %10s  %-9s  %s %s  live %lld..%lld  at offset %llu\n", FormatBytes(b->slice.size).c_str(),
                    BufferKindName(b->kind), live.name.c_str(), live.shape.c_str(), static_cast<long long>(b->defined_at),
                    static_cast<long long>(b->last_use), static_cast<unsigned long long>(b->slice.offset));
      out += line;
      ++shown;
    }
  }
  return out;
}

void MemoryJson(const std::vector<MemoryReport>& reports, JsonWriter& j) {
  j.BeginArray();
  for (const MemoryReport& r : reports) {
    j.BeginObject().Key("device").Int(r.device).Key("arena_bytes").Uint(r.arena_bytes).Key("peak_bytes").Uint(r.peak_bytes);
    j.Key("peak_position").Int(r.peak_position).Key("peak_instruction").String(r.peak_instruction);
    j.Key("totals").BeginObject();
    for (int k = 0; k < kBufferKinds; ++k)
      j.Key(BufferKindName(static_cast<BufferInfo::Kind>(k)))
          .BeginObject().Key("bytes").Uint(r.kind_bytes[k]).Key("buffers").Int(r.kind_count[k]).EndObject();
    j.EndObject();
    j.Key("global_input_bytes").Uint(r.global_input_bytes).Key("global_output_bytes").Uint(r.global_output_bytes);
    j.Key("live_at_peak").BeginArray();
    for (const MemoryReport::LiveBuffer& live : r.live_at_peak) {
      const BufferInfo* b = live.buffer;
      j.BeginObject().Key("instruction").String(b->instruction).Key("leaf").Uint(b->leaf).Key("kind").String(BufferKindName(b->kind))
          .Key("bytes").Uint(b->slice.size).Key("offset").Uint(b->slice.offset).Key("defined_at").Int(b->defined_at)
          .Key("last_use").Int(b->last_use).Key("shape").String(live.shape).EndObject();
    }
    j.EndArray().EndObject();
  }
  j.EndArray();
}

}  // namespace pjit
