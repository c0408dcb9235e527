#include "inspect/sharding_explain.h"

#include <set>

#include "inspect/source_location.h"

namespace pjit {
namespace {

using Origin = ShardingProvenance::Origin;

std::string Reason(const Instruction& in) {
  const ShardingProvenance& p = in.sharding_provenance;
  std::string rule = p.rule.empty() ? "" : ", rule \"" + p.rule + "\"";
  std::string when = ", priority level " + std::to_string(p.level) + ", pass " + std::to_string(p.pass);
  switch (p.origin) {
    case Origin::kCommandLine: return "given on the command line: " + p.rule;
    case Origin::kAnnotation: return "annotated in the module";
    case Origin::kForward:
      return "forward from " + (p.operand >= 0 ? "operand " + std::to_string(p.operand) + " (" + p.from + ")" : p.from) + rule + when;
    case Origin::kBackward: return "backward from its user " + p.from + rule + when;
    case Origin::kDefault: return "no propagation rule reached it: replicated by default";
    case Origin::kNone: break;
  }
  return in.sharding ? "sharding of unknown origin (the artifact records none)" : "no sharding: replicated";
}

}  // namespace

StatusOr<std::vector<ExplainStep>> ExplainSharding(const Module& global, const std::string& name) {
  const Instruction* in = global.FindInstruction(name);
  if (!in) return InvalidArgument("program: no instruction named '", name, "'");
  std::vector<ExplainStep> chain;
  std::set<const Instruction*> seen;
  while (in && seen.insert(in).second) {
    chain.push_back({in, Reason(*in)});
    Origin o = in->sharding_provenance.origin;
    in = o == Origin::kForward || o == Origin::kBackward ? global.FindInstruction(in->sharding_provenance.from) : nullptr;
  }
  return chain;
}

std::string ExplainText(const std::vector<ExplainStep>& chain) {
  std::string out;
  for (const ExplainStep& s : chain) {
    const Instruction& in = *s.instruction;
    std::string where = SourceLocation(in);
    out += in.name + "  " + in.shape.ToString(false) + "  " + (in.sharding ? in.sharding->ToString() : "{replicated}") +
           (where.empty() ? "" : "  (" + where + ")") + "\n";
    out += "  <- " + s.reason + "\n";
  }
  return out;
}

void ExplainJson(const std::vector<ExplainStep>& chain, JsonWriter& j) {
  j.BeginArray();
  for (const ExplainStep& s : chain) {
    const Instruction& in = *s.instruction;
    const ShardingProvenance& p = in.sharding_provenance;
    static const char* kOrigins[] = {"none", "command_line", "annotation", "forward", "backward", "default"};
    j.BeginObject().Key("instruction").String(in.name).Key("shape").String(in.shape.ToString(false));
    j.Key("sharding");
    if (in.sharding) j.String(in.sharding->ToString());
    else j.Null();
    j.Key("location").String(in.location).Key("source_file").String(in.metadata.source_file);
    j.Key("source_line").Int(in.metadata.source_line).Key("op_name").String(in.metadata.op_name);
    j.Key("origin").String(kOrigins[static_cast<int>(p.origin)]).Key("from").String(p.from).Key("operand").Int(p.operand);
    j.Key("rule").String(p.rule).Key("level").Int(p.level).Key("pass").Int(p.pass).Key("reason").String(s.reason).EndObject();
  }
  j.EndArray();
}

}  // namespace pjit
