#include "inspect/inspect.h"

#include "format/artifact_reader.h"
#include "format/hlo_parser.h"
#include "format/terminal_text.h"
#include "inspect/artifact_diff.h"
#include "inspect/artifact_summary.h"
#include "inspect/binary_view.h"
#include "inspect/memory_report.h"
#include "inspect/module_summary.h"
#include "inspect/program_view.h"
#include "inspect/sharding_explain.h"

namespace pjit {
namespace {

StatusOr<std::string> Shardings(const InspectedArtifact& a, const InspectRequest& q) {
  const Mesh& mesh = a.reader->mesh();
  std::vector<ShardingLayout> layouts;
  auto add = [&](const std::string& name, const Shape& shape, const std::optional<HloSharding>& s) -> Status {
    PJIT_ASSIGN_OR_RETURN(std::vector<ShardingLayout> l, LayoutsOf(name, shape, s, mesh));
    for (ShardingLayout& x : l) layouts.push_back(std::move(x));
    return OkStatus();
  };
  if (q.names.empty()) {
    for (const ArrayInfo& x : a.reader->signature().inputs) PJIT_RETURN_IF_ERROR(add("input " + std::to_string(x.index) + " " + x.name, x.shape, x.sharding));
    for (const ArrayInfo& x : a.reader->signature().outputs) PJIT_RETURN_IF_ERROR(add("output " + std::to_string(x.index) + " " + x.name, x.shape, x.sharding));
  }
  for (const std::string& name : q.names) {
    const Instruction* in = a.global->FindInstruction(name);
    if (!in) return InvalidArgument(a.path, ": program: no instruction named '", name, "' (pjit-inspect --global lists them)");
    PJIT_RETURN_IF_ERROR(add(name, in->shape, in->sharding));
  }
  if (q.json) {
    JsonWriter j;
    j.BeginArray();
    for (const ShardingLayout& l : layouts) ShardingLayoutJson(l, j);
    j.EndArray();
    return j.Finish();
  }
  std::string out;
  for (size_t i = 0; i < layouts.size(); ++i) out += (i ? "\n" : "") + DrawShardingGrid(layouts[i], q.grid);
  return out;
}

template <typename F>
std::string AsJson(F write) {
  JsonWriter j;
  write(j);
  return j.Finish();
}

StatusOr<std::string> View(const InspectedArtifact& a, const InspectRequest& q) {
  switch (q.view) {
    case InspectView::kSummary:
      return q.json ? SummarizeArtifactJson(a, q.link) : SummarizeArtifact(a, q.link);
    case InspectView::kShardings:
      return Shardings(a, q);
    case InspectView::kExplain: {
      StatusOr<std::vector<ExplainStep>> chain = ExplainSharding(*a.global, q.name);
      if (!chain.ok()) return InvalidArgument(a.path, ": ", chain.status().message(), " (pjit-inspect --global lists them)");
      if (!q.json) return ExplainText(*chain);
      return AsJson([&](JsonWriter& j) { ExplainJson(*chain, j); });
    }
    case InspectView::kCollectives: {
      if (!a.ProgramOf(-1)) return InvalidArgument(a.path, ": device_programs: the artifact holds no per-device program");
      std::vector<CollectiveRecord> records = CollectivesOf(a, q.link);
      if (!q.json) return CollectivesText(records, q.link);
      return AsJson([&](JsonWriter& j) { CollectivesJson(records, q.link, j); });
    }
    case InspectView::kMemory: {
      const LoadedDeviceProgram* p = a.ProgramOf(-1);
      if (!p || a.plan.sequences.empty()) return InvalidArgument(a.path, ": thunks: the artifact holds no memory plan");
      PJIT_ASSIGN_OR_RETURN(std::vector<MemoryReport> reports,
                            BuildMemoryReports(a.plan, *p->module, a.reader->signature(), a.reader->mesh().device_count()));
      if (!q.json) return MemoryText(reports, q.all ? 0 : 10);
      return AsJson([&](JsonWriter& j) { MemoryJson(reports, j); });
    }
    case InspectView::kProgram:
    case InspectView::kGlobal:
      return ProgramView(a, ProgramViewOptions{q.view == InspectView::kGlobal, q.device, q.json});
    case InspectView::kBinaries:
      if (!q.json) return BinariesText(a);
      return AsJson([&](JsonWriter& j) { BinariesJson(a, j); });
    case InspectView::kExtract:
      return ExtractBinary(a, q.name, q.output);
    case InspectView::kDiff: {
      PJIT_ASSIGN_OR_RETURN(InspectedArtifact b, LoadForInspection(q.other));
      if (!q.json) return DiffText(a, b, q.link);
      return AsJson([&](JsonWriter& j) { DiffJson(a, b, q.link, j); });
    }
  }
  return InvalidArgument("unknown view");
}

}  // namespace

StatusOr<std::string> Inspect(const InspectRequest& q) {
  PJIT_ASSIGN_OR_RETURN(bool artifact, IsArtifactFile(q.path));
  if (!artifact && q.view == InspectView::kSummary && !q.json) {
    PJIT_ASSIGN_OR_RETURN(std::unique_ptr<Module> module, ParseHloFile(q.path));
    return TerminalSafe(SummarizeModule(*module));
  }
  PJIT_ASSIGN_OR_RETURN(InspectedArtifact a, LoadForInspection(q.path));
  PJIT_ASSIGN_OR_RETURN(std::string out, View(a, q));
  // Names, paths and metadata come from the files: escaped once here for every text view
  // (JSON escapes its strings; --extract -o - writes bytes on purpose).
  if (q.json || (q.view == InspectView::kExtract && q.output == "-")) return out;
  return TerminalSafe(out, q.view == InspectView::kShardings && q.grid.color);
}

}  // namespace pjit
