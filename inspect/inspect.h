// What pjit-inspect does, as one library call: the tool parses flags into an InspectRequest and
// prints what Inspect returns. Every view reads the artifact only; nothing in it is run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/status.h"
#include "inspect/collective_report.h"
#include "inspect/sharding_grid.h"

namespace pjit {

enum class InspectView {
  kSummary,      // default; an HLO text file gets its module summary
  kShardings,    // --shardings [NAME...]
  kExplain,      // --explain NAME
  kCollectives,  // --collectives
  kMemory,       // --memory
  kProgram,      // --program [--device N]
  kGlobal,       // --global
  kBinaries,     // --binaries
  kExtract,      // --extract NAME -o FILE
  kDiff,         // --diff OTHER
};

struct InspectRequest {
  std::string path;
  InspectView view = InspectView::kSummary;
  bool json = false;
  std::vector<std::string> names;  // --shardings: instructions; empty: the inputs and outputs
  std::string name;                // --explain, --extract
  std::optional<int64_t> device;   // --program
  GridStyle grid;
  LinkModel link;
  bool all = false;                // --memory: every buffer live at the peak
  std::string output;              // --extract
  std::string other;               // --diff
};

StatusOr<std::string> Inspect(const InspectRequest& request);

}  // namespace pjit
