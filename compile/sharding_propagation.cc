#include "compile/sharding_propagation.h"

#include <algorithm>
#include <map>

#include "compile/sharding_rules.h"
#include "compile/sharding_util.h"

namespace pjit {
namespace {

using Origin = ShardingProvenance::Origin;

bool IsFixed(const Instruction& in) {
  return in.sharding_provenance.origin == Origin::kCommandLine || in.sharding_provenance.origin == Origin::kAnnotation;
}

// Combines a new candidate with what an instruction has: merged when compatible (a dot
// split by lhs rows and rhs columns), else the candidate alone.
HloSharding Combine(const HloSharding& candidate, const std::optional<HloSharding>& current, const Shape& shape,
                    const Mesh& mesh) {
  if (!current || !shape.IsArray()) return candidate;
  std::optional<Tiling> a = ToTiling(*current, shape.rank(), mesh);
  std::optional<Tiling> b = ToTiling(candidate, shape.rank(), mesh);
  if (a && b)
    if (std::optional<Tiling> merged = MergeTilings(*a, *b)) return FromTiling(*merged, mesh);
  return candidate;
}

// Tuple elements that no rule reached are replicated, like unreached arrays.
void ReplicateUnknownElements(HloSharding& s) {
  if (s.kind == HloSharding::Kind::kUnknown) s = HloSharding::Replicated();
  for (HloSharding& e : s.elements) ReplicateUnknownElements(e);
}

// Element by element, the more specific of two shardings of the same shape.
std::optional<HloSharding> MoreSpecificPerElement(const std::optional<HloSharding>& a, const std::optional<HloSharding>& b) {
  if (!a) return b;
  if (!b) return a;
  if (a->kind == HloSharding::Kind::kTuple && b->kind == HloSharding::Kind::kTuple && a->elements.size() == b->elements.size()) {
    HloSharding out = *a;
    for (size_t i = 0; i < out.elements.size(); ++i)
      if (NumDataTiles(b->elements[i]) > NumDataTiles(out.elements[i])) out.elements[i] = b->elements[i];
    return out;
  }
  return NumDataTiles(*b) > NumDataTiles(*a) ? b : a;
}

class Propagation {
 public:
  Propagation(Module& module, const Mesh& mesh) : module_(module), mesh_(mesh) {}

  StatusOr<PropagationReport> Run() {
    CollectComputations(*module_.entry);
    for (Computation* c : computations_)
      for (auto& in : c->instructions)
        if (in->sharding && (in->sharding->shard_as || in->sharding->shard_like))
          groups_[*(in->sharding->shard_as ? in->sharding->shard_as : in->sharding->shard_like)].push_back(in.get());
    for (Computation* c : computations_)
      for (auto& in : c->instructions) {
        // {unknown} asks propagation to decide; it fixes nothing.
        if (in->sharding && in->sharding->kind == HloSharding::Kind::kUnknown) in->sharding.reset();
        if (in->sharding && in->sharding_provenance.origin == Origin::kNone) in->sharding_provenance.origin = Origin::kAnnotation;
      }
    for (level_ = 0; level_ <= kMaxRuleLevel; ++level_) {
      bool changed = true;
      while (changed) {
        ++report_.passes;
        changed = false;
        for (Computation* c : computations_) changed |= Forward(*c) | Backward(*c);
        changed |= SyncControlFlow();
        for (auto& [group, members] : groups_)
          changed |= Sync(members, "shard_as/shard_like group " + std::to_string(group) + ": members share one sharding");
      }
    }
    for (Computation* c : computations_) {
      for (auto& in : c->instructions) {
        if (in->sharding) {
          ReplicateUnknownElements(*in->sharding);
          continue;
        }
        if (!(in->shape.IsArray() || in->shape.IsTuple())) continue;
        in->sharding = HloSharding::Replicated();
        in->sharding_provenance = {Origin::kDefault, "", -1, "no rule reached it: replicated", 0, report_.passes};
      }
      Warn(*c);
    }
    return report_;
  }

 private:
  // The entry and the bodies, conditions and branches of its control flow: the computations
  // whose values are arrays the devices hold (reducers and comparators only see scalars).
  void CollectComputations(Computation& c) {
    if (std::find(computations_.begin(), computations_.end(), &c) != computations_.end()) return;
    computations_.push_back(&c);
    for (auto& in : c.instructions)
      if (in->opcode == Opcode::kWhile || in->opcode == Opcode::kConditional)
        for (Computation* callee : in->called) CollectComputations(*callee);
  }

  // Gives every member of a group of values that must agree the most specific sharding among
  // them, unless an annotated member decides.
  bool Sync(const std::vector<Instruction*>& members, const std::string& rule) {
    std::optional<HloSharding> best;
    const Instruction* source = nullptr;
    for (const Instruction* m : members) {
      if (!m->sharding) continue;
      if (IsFixed(*m)) {
        best = m->sharding, source = m;
        break;
      }
      std::optional<HloSharding> next = MoreSpecificPerElement(best, m->sharding);
      if (!best || NumDataTiles(*next) > NumDataTiles(*best)) source = m;
      best = next;
    }
    if (!best) return false;
    bool changed = false;
    for (Instruction* m : members) {
      if (m == source || IsFixed(*m) || (m->sharding && !IsMoreSpecific(*best, m->sharding))) continue;
      changed |= Set(*m, *best, {Origin::kForward, source->name, -1, rule, 0, 0});
    }
    return changed;
  }

  bool SyncControlFlow() {
    bool changed = false;
    for (Computation* c : computations_)
      for (auto& owned : c->instructions) {
        Instruction& in = *owned;
        if (in.opcode == Opcode::kWhile) {
          Computation& cond = *in.called[0];
          Computation& body = *in.called[1];
          changed |= Sync({in.operands[0], &in, body.parameters[0], body.root, cond.parameters[0]},
                          "while: loop state keeps one sharding (operand, body, condition, result)");
        } else if (in.opcode == Opcode::kConditional) {
          std::vector<Instruction*> results = {&in};
          for (size_t b = 0; b < in.called.size(); ++b) {
            changed |= Sync({in.operands[b + 1], in.called[b]->parameters[0]}, "conditional: a branch parameter is its operand");
            results.push_back(in.called[b]->root);
          }
          changed |= Sync(results, "conditional: every branch returns the result's sharding");
        }
      }
    return changed;
  }

  bool Set(Instruction& in, HloSharding s, ShardingProvenance p) {
    p.level = level_;
    p.pass = report_.passes;
    in.sharding = std::move(s);
    in.sharding_provenance = std::move(p);
    return true;
  }

  bool Forward(Computation& c) {
    bool changed = false;
    for (auto& owned : c.instructions) {
      Instruction& in = *owned;
      if (IsFixed(in) || RuleLevel(in.opcode) > level_) continue;
      if (in.opcode == Opcode::kTuple) {
        std::optional<HloSharding> s = in.sharding;
        for (size_t i = 0; i < in.operands.size(); ++i)
          if (in.operands[i]->sharding) s = WithElementSharding(s, in.shape, static_cast<int64_t>(i), *in.operands[i]->sharding);
        if (s && IsMoreSpecific(*s, in.sharding))
          changed |= Set(in, *s, {Origin::kForward, in.operands[0]->name, 0, "tuple: operand shardings", 0, 0});
        continue;
      }
      std::optional<HloSharding> best = in.sharding;
      ShardingProvenance provenance;
      for (size_t i = 0; i < in.operands.size(); ++i) {
        const Instruction* o = in.operands[i];
        if (!o->sharding) continue;
        std::optional<RuleResult> r = ForwardRule(in, i, *o->sharding, mesh_);
        if (!r) continue;
        HloSharding combined = Combine(r->sharding, best, in.shape, mesh_);
        if (IsMoreSpecific(combined, best)) {
          best = combined;
          provenance = {Origin::kForward, o->name, static_cast<int>(i), r->rule, 0, 0};
        }
      }
      if (best && IsMoreSpecific(*best, in.sharding)) changed |= Set(in, *best, provenance);
    }
    return changed;
  }

  bool Backward(Computation& c) {
    bool changed = false;
    for (auto it = c.instructions.rbegin(); it != c.instructions.rend(); ++it) {
      Instruction& user = **it;
      if (!user.sharding || RuleLevel(user.opcode) > level_) continue;
      for (size_t i = 0; i < user.operands.size(); ++i) {
        Instruction& o = *user.operands[i];
        if (IsFixed(o)) continue;
        std::optional<HloSharding> candidate;
        std::string rule;
        if (user.opcode == Opcode::kGetTupleElement && o.shape.IsTuple()) {
          candidate = WithElementSharding(o.sharding, o.shape, user.tuple_index, *user.sharding);
          rule = "get-tuple-element: element " + std::to_string(user.tuple_index);
        } else if (std::optional<RuleResult> r = BackwardRule(user, i, *user.sharding, mesh_)) {
          candidate = Combine(r->sharding, o.sharding, o.shape, mesh_);
          rule = r->rule;
        }
        if (candidate && IsMoreSpecific(*candidate, o.sharding))
          changed |= Set(o, *candidate, {Origin::kBackward, user.name, -1, rule, 0, 0});
      }
    }
    return changed;
  }

  // Uneven splits (the partitioner pads them) and annotations that force a gather.
  void Warn(const Computation& c) {
    for (const auto& in : c.instructions) {
      const std::optional<HloSharding>& s = in->sharding;
      if (!s || !s->IsTiled() || !in->shape.IsArray()) continue;
      for (int64_t d = 0; d < s->TiledRank(); ++d) {
        int64_t n = in->shape.dims[d], k = s->tiles.dims[d];
        if (k > 1 && n % k != 0) {
          int64_t shard = (n + k - 1) / k;
          report_.warnings.push_back(StrCat(in->location, ": ", in->name, ": dimension ", d, " of size ", n, " is split ", k,
                                            " ways; shards are padded to ", shard, " (", shard * k - n, " padding elements)"));
        }
      }
    }
    for (const auto& in : c.instructions) {
      if (!IsFixed(*in) || !in->sharding || in->sharding->kind != HloSharding::Kind::kReplicated) continue;
      for (const Instruction* o : in->operands)
        if (o->sharding && NumDataTiles(*o->sharding) > 1 && o->shape.IsArray() && in->shape.IsArray()) {
          report_.warnings.push_back(StrCat(in->location, ": ", in->name, ": annotated {replicated} but its operand ", o->name,
                                            " is split ", NumDataTiles(*o->sharding), " ways; the whole array is gathered on every device"));
          break;
        }
    }
  }

  Module& module_;
  const Mesh& mesh_;
  std::vector<Computation*> computations_;
  std::map<int64_t, std::vector<Instruction*>> groups_;  // shard_as / shard_like groups
  int level_ = 0;
  PropagationReport report_;
};

}  // namespace

StatusOr<PropagationReport> PropagateShardings(Module& module, const Mesh& mesh) {
  if (!module.entry) return InvalidArgument("module without an entry computation");
  for (const auto& c : module.computations)
    for (const auto& in : c->instructions)
      if (in->sharding) {
        Status valid = ValidateSharding(*in->sharding, in->shape, mesh.device_count());
        if (!valid.ok()) return InvalidArgument(in->location, ": ", in->name, ": ", valid.message(), " (mesh ", mesh.device_count(), " devices)");
      }
  return Propagation(module, mesh).Run();
}

}  // namespace pjit
