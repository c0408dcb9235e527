#include "compile/sharding_propagation.h"

#include <unordered_set>

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

// Tuple shardings with unknown elements stand for partly known tuple shardings.
HloSharding WithElement(const std::optional<HloSharding>& tuple, const Shape& shape, size_t index, const HloSharding& e) {
  HloSharding out;
  if (tuple && tuple->kind == HloSharding::Kind::kTuple) {
    out = *tuple;
  } else {
    HloSharding unknown;
    unknown.kind = HloSharding::Kind::kUnknown;
    out = HloSharding::Tuple(std::vector<HloSharding>(shape.tuple_shapes.size(), unknown));
  }
  out.elements[index] = e;
  return out;
}

class Propagation {
 public:
  Propagation(Module& module, const Mesh& mesh) : module_(module), mesh_(mesh) {}

  StatusOr<PropagationReport> Run() {
    Computation& entry = *module_.entry;
    for (auto& in : entry.instructions)
      if (in->sharding && in->sharding_provenance.origin == Origin::kNone) in->sharding_provenance.origin = Origin::kAnnotation;
    for (level_ = 0; level_ <= kMaxRuleLevel; ++level_) {
      bool changed = true;
      while (changed) {
        ++report_.passes;
        changed = Forward(entry) | Backward(entry);
      }
    }
    for (auto& in : entry.instructions) {
      if (in->sharding || !(in->shape.IsArray() || in->shape.IsTuple())) continue;
      in->sharding = HloSharding::Replicated();
      in->sharding_provenance = {Origin::kDefault, "", -1, "no rule reached it: replicated", 0, report_.passes};
    }
    Warn(entry);
    return report_;
  }

 private:
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
          if (in.operands[i]->sharding) s = WithElement(s, in.shape, i, *in.operands[i]->sharding);
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
          if (user.sharding->kind == HloSharding::Kind::kTuple) continue;
          candidate = WithElement(o.sharding, o.shape, static_cast<size_t>(user.tuple_index), *user.sharding);
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
  int level_ = 0;
  PropagationReport report_;
};

}  // namespace

StatusOr<PropagationReport> PropagateShardings(Module& module, const Mesh& mesh) {
  if (!module.entry) return InvalidArgument("module without an entry computation");
  for (const auto& in : module.entry->instructions)
    if (in->sharding) {
      Status valid = ValidateSharding(*in->sharding, in->shape, mesh.device_count());
      if (!valid.ok()) return InvalidArgument(in->location, ": ", in->name, ": ", valid.message(), " (mesh ", mesh.device_count(), " devices)");
    }
  return Propagation(module, mesh).Run();
}

}  // namespace pjit
