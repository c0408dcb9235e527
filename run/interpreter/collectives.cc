#include "run/interpreter/collectives.h"

#include <algorithm>
#include <cstring>

namespace pjit {
namespace {

// Sizes around dimension d: (product of dims before d, dims[d], bytes of one row after d).
struct Split {
  int64_t outer, extent;
  size_t inner_bytes;
};

Split SplitAt(const Shape& s, int64_t d) {
  Split sp{1, s.dims[d], static_cast<size_t>(DTypeByteSize(s.dtype))};
  for (int64_t i = 0; i < d; ++i) sp.outer *= s.dims[i];
  for (int64_t i = d + 1; i < s.rank(); ++i) sp.inner_bytes *= static_cast<size_t>(s.dims[i]);
  return sp;
}

// Concatenates arrays along dimension d.
Literal Concat(const std::vector<const Literal*>& parts, int64_t d) {
  Shape shape = parts[0]->shape();
  shape.layout.reset();
  shape.dims[d] = 0;
  for (const Literal* p : parts) shape.dims[d] += p->shape().dims[d];
  Literal out(shape);
  Split o = SplitAt(shape, d);
  for (int64_t i = 0; i < o.outer; ++i) {
    int64_t offset = 0;
    for (const Literal* p : parts) {
      Split s = SplitAt(p->shape(), d);
      size_t bytes = static_cast<size_t>(s.extent) * s.inner_bytes;
      std::memcpy(out.bytes().data() + (static_cast<size_t>(i * o.extent + offset)) * o.inner_bytes,
                  p->bytes().data() + static_cast<size_t>(i) * bytes, bytes);
      offset += s.extent;
    }
  }
  return out;
}

// Chunk `index` of `count` equal chunks of `x` along dimension d.
Literal Chunk(const Literal& x, int64_t d, int64_t count, int64_t index) {
  Shape shape = x.shape();
  shape.layout.reset();
  shape.dims[d] /= count;
  Literal out(shape);
  Split s = SplitAt(x.shape(), d);
  size_t bytes = static_cast<size_t>(shape.dims[d]) * s.inner_bytes;
  for (int64_t i = 0; i < s.outer; ++i)
    std::memcpy(out.bytes().data() + static_cast<size_t>(i) * bytes,
                x.bytes().data() + (static_cast<size_t>(i * s.extent + index * shape.dims[d])) * s.inner_bytes, bytes);
  return out;
}

}  // namespace

StatusOr<std::pair<int64_t, std::vector<int64_t>>> Collectives::GroupOf(const Instruction& instr, int64_t device) const {
  std::vector<int64_t> all(static_cast<size_t>(num_devices_));
  for (int64_t i = 0; i < num_devices_; ++i) all[i] = i;
  if (instr.opcode == Opcode::kCollectivePermute || instr.replica_groups.groups.empty()) return std::pair{int64_t{0}, all};
  const auto& groups = instr.replica_groups.groups;
  for (size_t g = 0; g < groups.size(); ++g)
    if (std::find(groups[g].begin(), groups[g].end(), device) != groups[g].end()) {
      for (int64_t id : groups[g])
        if (id < 0 || id >= num_devices_)
          return InvalidArgument(instr.location, ": ", instr.name, ": replica group names device ", id, " of ", num_devices_);
      return std::pair{static_cast<int64_t>(g), groups[g]};
    }
  return InvalidArgument(instr.location, ": ", instr.name, ": device ", device, " is in no replica group");
}

Status Collectives::Combine(const Instruction& instr, Meeting& m, const Reducer& reduce) {
  size_t n = m.contributions.size();
  std::vector<const Literal*> parts;
  for (const auto& c : m.contributions) parts.push_back(&*c);
  m.results.assign(n, Literal());
  auto reduce_all = [&](const std::vector<const Literal*>& xs) -> StatusOr<Literal> {
    Literal acc = *xs[0];
    for (size_t j = 1; j < xs.size(); ++j) {
      PJIT_ASSIGN_OR_RETURN(acc, reduce(instr, acc, *xs[j]));
    }
    return acc;
  };
  switch (instr.opcode) {
    case Opcode::kAllReduce: {
      if (parts[0]->shape().IsTuple()) {  // several operands: reduce each
        std::vector<Literal> elements;
        for (size_t k = 0; k < parts[0]->elements().size(); ++k) {
          std::vector<const Literal*> xs;
          for (const Literal* p : parts) xs.push_back(&p->elements()[k]);
          PJIT_ASSIGN_OR_RETURN(Literal r, reduce_all(xs));
          elements.push_back(std::move(r));
        }
        Literal t = Literal::Tuple(std::move(elements));
        for (Literal& r : m.results) r = t;
      } else {
        PJIT_ASSIGN_OR_RETURN(Literal r, reduce_all(parts));
        for (Literal& x : m.results) x = r;
      }
      return OkStatus();
    }
    case Opcode::kAllGather: {
      Literal r = Concat(parts, instr.dimensions[0]);
      for (Literal& x : m.results) x = r;
      return OkStatus();
    }
    case Opcode::kReduceScatter: {
      PJIT_ASSIGN_OR_RETURN(Literal r, reduce_all(parts));
      for (size_t p = 0; p < n; ++p) m.results[p] = Chunk(r, instr.dimensions[0], static_cast<int64_t>(n), static_cast<int64_t>(p));
      return OkStatus();
    }
    case Opcode::kAllToAll: {
      if (instr.dimensions.size() != 1 || parts[0]->shape().IsTuple())
        return Unimplemented(instr.location, ": ", instr.name, ": unsupported: tuple all-to-all in the interpreter");
      int64_t d = instr.dimensions[0];
      if (parts[0]->shape().dims[d] % static_cast<int64_t>(n) != 0)
        return InvalidArgument(instr.location, ": ", instr.name, ": dimension ", d, " does not split into ", n, " chunks");
      for (size_t p = 0; p < n; ++p) {
        std::vector<Literal> chunks;
        for (const Literal* x : parts) chunks.push_back(Chunk(*x, d, static_cast<int64_t>(n), static_cast<int64_t>(p)));
        std::vector<const Literal*> refs;
        for (const Literal& c : chunks) refs.push_back(&c);
        m.results[p] = Concat(refs, d);
      }
      return OkStatus();
    }
    case Opcode::kCollectivePermute: {
      for (size_t t = 0; t < n; ++t) m.results[t] = Literal(parts[t]->shape());  // zeros unless a source sends
      for (const auto& [source, target] : instr.source_target_pairs) {
        if (source < 0 || target < 0 || source >= static_cast<int64_t>(n) || target >= static_cast<int64_t>(n))
          return InvalidArgument(instr.location, ": ", instr.name, ": source_target_pair {", source, ",", target, "} names a device outside 0..", n - 1);
        m.results[static_cast<size_t>(target)] = *parts[static_cast<size_t>(source)];
      }
      return OkStatus();
    }
    default:
      return Internal(instr.name, " is not a collective");
  }
}

StatusOr<Literal> Collectives::Run(const Instruction& instr, const std::vector<const Literal*>& operands, int64_t device,
                                   const Reducer& reduce) {
  Literal contribution;
  if (operands.size() == 1) {
    contribution = *operands[0];
  } else {
    std::vector<Literal> copies;
    for (const Literal* o : operands) copies.push_back(*o);
    contribution = Literal::Tuple(std::move(copies));
  }
  std::unique_lock<std::mutex> lock(mu_);
  PJIT_ASSIGN_OR_RETURN(auto group, GroupOf(instr, device));
  const std::vector<int64_t>& members = group.second;
  Key key{&instr, occurrences_[{&instr, device}]++, group.first};
  Meeting& m = meetings_[key];
  if (m.contributions.empty()) m.contributions.resize(members.size());
  size_t position = static_cast<size_t>(std::find(members.begin(), members.end(), device) - members.begin());
  m.contributions[position] = std::move(contribution);
  if (++m.arrived == static_cast<int64_t>(members.size())) {
    m.status = Combine(instr, m, reduce);
    m.done = true;
    cv_.notify_all();
  } else if (!cv_.wait_for(lock, timeout_, [&] { return m.done; })) {
    std::string missing;
    for (size_t p = 0; p < members.size(); ++p)
      if (!m.contributions[p]) missing += (missing.empty() ? "" : ", ") + std::to_string(members[p]);
    return InvalidArgument(instr.location, ": ", instr.name, ": collective timed out after ", timeout_.count() / 1000.0,
                           " s: devices ", missing, " did not arrive");
  }
  Status status = m.status;
  Literal result = status.ok() ? std::move(m.results[position]) : Literal();
  if (++m.departed == static_cast<int64_t>(members.size())) meetings_.erase(key);
  if (!status.ok()) return status;
  return result;
}

}  // namespace pjit
