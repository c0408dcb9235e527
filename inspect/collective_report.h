// pjit-inspect --collectives: every collective of the per-device program — kind, per-device
// shapes, replica groups and the mesh axes they span, bytes each device sends, the global
// instruction that caused it (and for a resharding, the value that moved between which
// shardings), and an estimated time from an alpha-beta link model — sorted by cost.
//
// Bytes and steps follow ring algorithms over a group of g devices with S input bytes each:
// all-gather sends (g-1)·S in g-1 steps; reduce-scatter and all-to-all (g-1)/g·S in g-1
// steps; all-reduce 2(g-1)/g·S in 2(g-1) steps; collective-permute S in one step. The time is
// steps·latency + bytes/bandwidth.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "format/hlo_module.h"
#include "format/mesh.h"
#include "inspect/inspected_artifact.h"
#include "inspect/json_writer.h"

namespace pjit {

struct LinkModel {
  double bandwidth = 25e9;  // bytes per second per device (a 200 Gb/s link)
  double latency = 5e-6;    // seconds per step
};

struct CollectiveRecord {
  const Instruction* instruction;  // in the per-device program
  std::string computation;         // where it runs (not the entry: once per call or iteration)
  int64_t group_size = 1;
  std::vector<std::string> mesh_axes;  // the axes its groups span
  uint64_t input_bytes = 0;            // per device, all operands
  uint64_t bytes_sent = 0;             // per device
  int64_t steps = 0;
  double seconds = 0;
  const Instruction* cause = nullptr;  // the global instruction it partitions; null if unknown
};

// In order of estimated time, most expensive first (ties by program order).
std::vector<CollectiveRecord> CollectCollectives(const Module& device_program, const Module& global, const Mesh& mesh,
                                                 const LinkModel& link);
// The same for an artifact's (first) device program; none when it has no device program.
std::vector<CollectiveRecord> CollectivesOf(const InspectedArtifact& artifact, const LinkModel& link);

struct CollectiveTotals {
  size_t count = 0;
  uint64_t bytes_sent = 0;  // per device
  double seconds = 0;
};
CollectiveTotals SumCollectives(const std::vector<CollectiveRecord>& records);

std::string CollectivesText(const std::vector<CollectiveRecord>& records, const LinkModel& link);
void CollectivesJson(const std::vector<CollectiveRecord>& records, const LinkModel& link, JsonWriter& j);

}  // namespace pjit
