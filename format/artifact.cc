#include "format/artifact.h"

namespace pjit {

namespace {

ArrayInfo Unpartitioned(const Instruction& instr, uint32_t index, const Mesh& mesh) {
  ArrayInfo info;
  info.name = instr.name;
  info.index = index;
  info.shape = instr.shape;
  info.shape.layout.reset();
  info.sharding = instr.sharding;
  info.shard_shape = info.shape;
  for (int64_t device : mesh.device_ids)
    info.shards.push_back({device, std::vector<int64_t>(instr.shape.dims.size(), 0)});
  return info;
}

}  // namespace

Signature UnpartitionedSignature(const Module& module, const Mesh& mesh) {
  Signature sig;
  const Computation& entry = *module.entry;
  for (const Instruction* p : entry.parameters)
    sig.inputs.push_back(Unpartitioned(*p, static_cast<uint32_t>(sig.inputs.size()), mesh));
  const Instruction* root = entry.root;
  if (root->opcode == Opcode::kTuple) {
    for (const Instruction* o : root->operands)
      sig.outputs.push_back(Unpartitioned(*o, static_cast<uint32_t>(sig.outputs.size()), mesh));
  } else {
    sig.outputs.push_back(Unpartitioned(*root, 0, mesh));
  }
  return sig;
}

}  // namespace pjit
