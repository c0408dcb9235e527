#include "compile/kernel_fusion.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace pjit {
namespace {

bool SupportedType(DType t) { return t != DType::kF16 && IsArrayType(t); }

bool IsCheap(const Instruction& in) {
  return in.opcode == Opcode::kBroadcast || in.opcode == Opcode::kIota || in.opcode == Opcode::kReshape ||
         (in.opcode == Opcode::kConstant && in.shape.IsArray() && in.shape.rank() == 0);
}

bool SupportedOpcode(const Instruction& in) {
  switch (in.opcode) {
    case Opcode::kAbs: case Opcode::kNegate: case Opcode::kSign: case Opcode::kExp: case Opcode::kExpm1: case Opcode::kLog:
    case Opcode::kLog1p: case Opcode::kSqrt: case Opcode::kRsqrt: case Opcode::kTanh: case Opcode::kLogistic: case Opcode::kSin:
    case Opcode::kCos: case Opcode::kFloor: case Opcode::kCeil: case Opcode::kRoundNearestEven: case Opcode::kRoundNearestAfz:
    case Opcode::kNot: case Opcode::kErf:
    case Opcode::kAdd: case Opcode::kSubtract: case Opcode::kMultiply: case Opcode::kDivide: case Opcode::kRemainder:
    case Opcode::kMaximum: case Opcode::kMinimum: case Opcode::kPower: case Opcode::kAnd: case Opcode::kOr: case Opcode::kXor:
    case Opcode::kShiftLeft: case Opcode::kShiftRightLogical: case Opcode::kShiftRightArithmetic: case Opcode::kAtan2:
    case Opcode::kSelect: case Opcode::kClamp: case Opcode::kConvert: case Opcode::kBroadcast: case Opcode::kTranspose:
    case Opcode::kIota:
      return true;
    case Opcode::kReshape:
      return in.operands[0]->shape.IsArray() && in.operands[0]->shape.dtype == in.shape.dtype;
    case Opcode::kCompare:
      return in.comparison_type != ComparisonType::kTotalOrder;
    case Opcode::kConstant:
      return in.shape.IsArray() && in.shape.rank() == 0;
    case Opcode::kReduce: {
      // One input folded over its trailing dims by a simple reducer, from a scalar init.
      if (in.operands.size() != 2 || in.operands[1]->shape.rank() != 0 || in.called.size() != 1) return false;
      std::optional<Opcode> op = SimpleReducer(*in.called[0]);
      if (!op || (*op != Opcode::kAdd && *op != Opcode::kMultiply && *op != Opcode::kMaximum && *op != Opcode::kMinimum &&
                  *op != Opcode::kAnd && *op != Opcode::kOr))
        return false;
      if ((*op == Opcode::kAnd || *op == Opcode::kOr) && IsFloating(in.shape.dtype)) return false;
      std::vector<int64_t> dims = in.dimensions;
      std::sort(dims.begin(), dims.end());
      int64_t rank = in.operands[0]->shape.rank();
      for (size_t i = 0; i < dims.size(); ++i)
        if (dims[i] != rank - static_cast<int64_t>(dims.size() - i)) return false;
      return true;
    }
    default:
      return false;
  }
}

// Ops whose scalar semantics the emitter has for this element type.
bool SupportedFor(const Instruction& in) {
  DType t = in.shape.dtype;
  switch (in.opcode) {
    case Opcode::kSelect: case Opcode::kCompare: case Opcode::kConvert: case Opcode::kBroadcast: case Opcode::kTranspose:
    case Opcode::kIota: case Opcode::kConstant: case Opcode::kReduce: case Opcode::kReshape:
      return true;
    case Opcode::kAnd: case Opcode::kOr: case Opcode::kXor: case Opcode::kNot:
      return !IsFloating(t);
    case Opcode::kShiftLeft: case Opcode::kShiftRightLogical: case Opcode::kShiftRightArithmetic:
      return IsInteger(t);
    case Opcode::kAdd: case Opcode::kSubtract: case Opcode::kMultiply: case Opcode::kMaximum: case Opcode::kMinimum:
    case Opcode::kAbs: case Opcode::kNegate: case Opcode::kSign: case Opcode::kClamp: case Opcode::kDivide:
    case Opcode::kRemainder:
      return t != DType::kPred;
    default:  // transcendental and rounding ops, power, atan2
      return IsFloating(t);
  }
}

}  // namespace

bool IsLoopFusible(const Instruction& in) {
  if (!in.shape.IsArray() || !SupportedType(in.shape.dtype) || !SupportedOpcode(in) || !SupportedFor(in)) return false;
  for (const Instruction* o : in.operands)
    if (!o->shape.IsArray() || !SupportedType(o->shape.dtype)) return false;
  return true;
}

int64_t LoopFusionBlock(const LoopFusion& f) {
  const Shape& s = f.root->shape;
  if (f.root->opcode == Opcode::kReduce || s.rank() == 0) return 0;
  constexpr int64_t kLongRow = 16384, kBlock = 8192;
  return s.dims.back() > kLongRow ? kBlock : s.dims.back();
}

int64_t LoopFusionRows(const LoopFusion& f) {
  const Shape& s = f.root->shape;
  if (f.root->opcode == Opcode::kReduce || s.rank() == 0) return s.ElementCount();
  if (!s.dims.back()) return 0;
  int64_t block = LoopFusionBlock(f);
  return s.ElementCount() / s.dims.back() * ((s.dims.back() + block - 1) / block);
}

std::vector<LoopFusion> FindLoopFusions(const Computation& entry) {
  std::unordered_map<const Instruction*, std::vector<const Instruction*>> users;
  for (const auto& in : entry.instructions)
    for (const Instruction* o : in->operands) users[o].push_back(in.get());
  // Group ids of each instruction (several for a duplicated cheap producer).
  std::unordered_map<const Instruction*, std::set<size_t>> groups_of;
  std::vector<const Instruction*> roots;
  for (auto it = entry.instructions.rbegin(); it != entry.instructions.rend(); ++it) {
    const Instruction* in = it->get();
    if (!IsLoopFusible(*in)) continue;
    const std::vector<const Instruction*>& us = users[in];
    bool all_fused = in != entry.root && !us.empty() && in->opcode != Opcode::kReduce;  // a reduction is always a root
    bool under_broadcast = false;
    std::set<size_t> consumer_groups;
    for (const Instruction* u : us) {
      auto g = groups_of.find(u);
      if (g == groups_of.end() || g->second.empty()) all_fused = false;
      else consumer_groups.insert(g->second.begin(), g->second.end());
      under_broadcast |= u->opcode == Opcode::kBroadcast;
    }
    if (all_fused && (IsCheap(*in) || (consumer_groups.size() == 1 && !under_broadcast))) {
      groups_of[in] = consumer_groups;
      continue;
    }
    // A constant alone is data and a reshape alone renames a buffer: neither is a kernel.
    if (in->opcode == Opcode::kConstant || in->opcode == Opcode::kReshape) continue;
    groups_of[in] = {roots.size()};
    roots.push_back(in);
  }
  std::vector<LoopFusion> out(roots.size());
  for (size_t g = 0; g < roots.size(); ++g) {
    out[g].root = roots[g];
    out[g].name = "fusion." + roots[g]->name;
  }
  for (const auto& in : entry.instructions) {
    auto g = groups_of.find(in.get());
    if (g == groups_of.end()) continue;
    for (size_t id : g->second) out[id].members.push_back(in.get());
  }
  for (LoopFusion& f : out) {
    std::set<const Instruction*> members(f.members.begin(), f.members.end());
    for (const Instruction* m : f.members)
      for (const Instruction* o : m->operands)
        if (!members.count(o) && std::find(f.inputs.begin(), f.inputs.end(), o) == f.inputs.end()) f.inputs.push_back(o);
  }
  // In program order of their roots: the kernel table is deterministic.
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace pjit
