#include "inspect/module_summary.h"

#include <map>


namespace pjit {

std::string SummarizeModule(const Module& m) {
  std::string out = "module " + m.name + "\n";
  if (m.num_partitions) out += "  num_partitions: " + std::to_string(*m.num_partitions) + "\n";
  if (m.replica_count) out += "  replica_count: " + std::to_string(*m.replica_count) + "\n";
  const Computation& entry = *m.entry;
  out += "inputs:\n";
  for (const Instruction* p : entry.parameters)
    out += "  " + std::to_string(p->parameter_number) + " " + p->name + ": " + p->shape.ToString(false) +
           (p->sharding ? "  sharding=" + p->sharding->ToString() : "") + "\n";
  out += "outputs:\n";
  const Instruction* root = entry.root;
  if (root->shape.IsTuple() && root->opcode == Opcode::kTuple) {
    for (size_t i = 0; i < root->operands.size(); ++i) {
      const Instruction* o = root->operands[i];
      out += "  " + std::to_string(i) + " " + o->name + ": " + o->shape.ToString(false) +
             (o->sharding ? "  sharding=" + o->sharding->ToString() : "") + "\n";
    }
  } else {
    out += "  0 " + root->name + ": " + root->shape.ToString(false) + (root->sharding ? "  sharding=" + root->sharding->ToString() : "") + "\n";
  }
  std::map<std::string_view, int> counts, collectives;
  size_t total = 0;
  for (const auto& c : m.computations)
    for (const auto& in : c->instructions) {
      ++total;
      (IsCollective(in->opcode) ? collectives : counts)[OpcodeName(in->opcode)]++;
    }
  out += "computations: " + std::to_string(m.computations.size()) + ", instructions: " + std::to_string(total) + "\n";
  for (const auto& [name, n] : counts) out += "  " + std::string(name) + ": " + std::to_string(n) + "\n";
  out += "collectives:" + std::string(collectives.empty() ? " none\n" : "\n");
  for (const auto& [name, n] : collectives) out += "  " + std::string(name) + ": " + std::to_string(n) + "\n";
  return out;
}

}  // namespace pjit
