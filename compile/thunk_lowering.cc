#include "compile/thunk_lowering.h"

#include <algorithm>
#include <limits>
#include <set>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "compile/buffer_assignment.h"

namespace pjit {
namespace {

uint64_t LeafBytes(const Shape& leaf) { return static_cast<uint64_t>(leaf.ByteSize()); }

// The reduction of a collective thunk: the reducer's opcode name ("add", "maximum", ...)
// when it is one the platforms' communicators run.
std::optional<std::string> ThunkReduction(const Computation& c) {
  std::optional<Opcode> op = SimpleReducer(c);
  if (!op) return std::nullopt;
  switch (*op) {
    case Opcode::kAdd: case Opcode::kMultiply: case Opcode::kMaximum: case Opcode::kMinimum: case Opcode::kAnd:
    case Opcode::kOr:
      return std::string(OpcodeName(*op));
    default:
      return std::nullopt;
  }
}

class Lowering {
 public:
  Lowering(const Module& m, const std::vector<LoopFusion>& fusions) : module_(m), fusions_(fusions) {
    for (const LoopFusion& f : fusions) {
      fusion_of_root_[f.root] = &f;
      for (const Instruction* in : f.members)
        if (in != f.root) absorbed_.insert(in);
    }
  }

  StatusOr<ThunkPlan> Run() {
    const Computation& entry = *module_.entry;
    for (size_t pos = 0; pos < entry.instructions.size(); ++pos) {
      const Instruction* in = entry.instructions[pos].get();
      PJIT_RETURN_IF_ERROR(Lower(in, static_cast<int64_t>(pos)));
    }
    // Parameters and results get bytes of their own (pinned), so a runtime may place them in
    // the caller's memory; a result that is a parameter or an earlier result is copied into
    // a buffer of its own first.
    const int64_t end = static_cast<int64_t>(entry.instructions.size());
    std::set<int> taken;
    for (const Instruction* p : entry.parameters)
      for (int id : leaves_.at(p)) {
        parameter_ids_.push_back(id);
        buffers_[static_cast<size_t>(id)].pinned = true;
        taken.insert(id);
      }
    const std::vector<int>& roots = leaves_.at(entry.root);
    for (size_t leaf = 0; leaf < roots.size(); ++leaf) {
      int id = roots[leaf];
      if (taken.count(id)) {
        int copy = static_cast<int>(buffers_.size());
        buffers_.push_back(LogicalBuffer{buffers_[static_cast<size_t>(id)].size, end, end});
        owners_.push_back(Owner{entry.root, static_cast<uint32_t>(leaf), &entry});
        buffers_[static_cast<size_t>(id)].last_use = std::max(buffers_[static_cast<size_t>(id)].last_use, end);
        Emit(Pending{Thunk(CopyThunk{}), {id, copy}});
        id = copy;
      }
      buffers_[static_cast<size_t>(id)].last_use = std::numeric_limits<int64_t>::max();
      buffers_[static_cast<size_t>(id)].pinned = true;
      taken.insert(id);
      result_ids_.push_back(id);
    }
    // In place: a kernel's output takes the bytes of an input it is the last to read, which
    // then live on as long as the output does.
    std::vector<int> home(buffers_.size());
    for (size_t id = 0; id < home.size(); ++id) home[id] = static_cast<int>(id);
    std::vector<LogicalBuffer> planned = buffers_;
    for (const InPlace& p : in_place_) {
      int input = p.input;
      while (home[static_cast<size_t>(input)] != input) input = home[static_cast<size_t>(input)];
      LogicalBuffer& in = planned[static_cast<size_t>(input)];
      LogicalBuffer& out = planned[static_cast<size_t>(p.output)];
      if (in.pinned || out.pinned || in.last_use != p.at || in.size != out.size || scratch_ids_.count(input)) continue;
      home[static_cast<size_t>(p.output)] = input;
      in.last_use = std::max(in.last_use, out.last_use);
      out.size = 0;  // planned with its home
    }
    auto home_of = [&](int id) {
      while (home[static_cast<size_t>(id)] != id) id = home[static_cast<size_t>(id)];
      return static_cast<size_t>(id);
    };
    BufferAssignment plan = AssignBuffers(planned);
    auto slice = [&](int id) { return BufferSlice{plan.offsets[home_of(id)], buffers_[static_cast<size_t>(id)].size}; };
    ThunkSequence seq;
    seq.arena_bytes = plan.arena_bytes;
    seq.peak_bytes = plan.peak_bytes;
    for (int id : parameter_ids_) seq.parameters.push_back(slice(id));
    for (int id : result_ids_) seq.results.push_back(slice(id));
    for (size_t l = 0; l < lists_.size(); ++l) {
      std::vector<Thunk>& into = l == 0 ? seq.thunks : seq.nested.emplace_back();
      for (Pending& p : lists_[l]) into.push_back(p.Resolve(slice));
    }
    std::vector<BufferInfo::Kind> kinds(buffers_.size(), BufferInfo::Kind::kTemporary);
    for (size_t id = 0; id < buffers_.size(); ++id)
      if (owners_[id].instruction->opcode == Opcode::kConstant) kinds[id] = BufferInfo::Kind::kConstant;
    for (int id : scratch_ids_) kinds[static_cast<size_t>(id)] = BufferInfo::Kind::kScratch;
    for (int id : result_ids_) kinds[static_cast<size_t>(id)] = BufferInfo::Kind::kOutput;
    for (int id : parameter_ids_) kinds[static_cast<size_t>(id)] = BufferInfo::Kind::kParameter;
    for (size_t id = 0; id < buffers_.size(); ++id) {
      const LogicalBuffer& b = buffers_[id];
      seq.buffers.push_back(BufferInfo{QualifiedName(owners_[id].instruction, owners_[id].computation), owners_[id].leaf, kinds[id], slice(static_cast<int>(id)),
                                       b.defined_at, std::min(b.last_use, end)});
    }
    ThunkPlan out;
    out.executables.push_back(ExecutableInfo{"hlo", "hlo", kernels_, {}, {}, {}, {}});
    if (!fusions_.empty()) {
      ExecutableInfo native{"x86_64", "elf", {}, {}, {}, {}, {}};
      for (const LoopFusion& f : fusions_) native.kernels.push_back(f.name);
      out.executables.push_back(std::move(native));
    }
    out.sequences.push_back(std::move(seq));
    return out;
  }

 private:
  // A thunk and, for each slice field it has, the buffer id that fills it.
  struct Pending {
    Thunk thunk;
    std::vector<int> ids;  // in the order Resolve fills slices
    template <typename F>
    Thunk Resolve(F slice) {
      size_t next = 0;
      auto take = [&] { return slice(ids[next++]); };
      if (auto* k = std::get_if<KernelThunk>(&thunk)) {
        for (BufferSlice& s : k->arguments) s = take();
      } else if (auto* g = std::get_if<GemmThunk>(&thunk)) {
        g->lhs = take();
        g->rhs = take();
        g->out = take();
      } else if (auto* c = std::get_if<CollectiveThunk>(&thunk)) {
        for (BufferSlice& s : c->inputs) s = take();
        for (BufferSlice& s : c->outputs) s = take();
      } else if (auto* w = std::get_if<WhileThunk>(&thunk)) {
        w->predicate = take();
      } else if (auto* c = std::get_if<ConditionalThunk>(&thunk)) {
        c->index = take();
      } else {
        auto& copy = std::get<CopyThunk>(thunk);
        copy.source = take();
        copy.destination = take();
      }
      return thunk;
    }
  };

  void Emit(Pending p) { lists_[current_].push_back(std::move(p)); }

  std::vector<int> NewBuffers(const Instruction* in, int64_t pos) {
    std::vector<int> ids;
    for (const Shape* leaf : LeafShapes(in->shape)) {
      ids.push_back(static_cast<int>(buffers_.size()));
      owners_.push_back(Owner{in, static_cast<uint32_t>(ids.size() - 1), computation_});
      buffers_.push_back(LogicalBuffer{LeafBytes(*leaf), pos, pos});
    }
    return ids;
  }

  std::vector<int> OperandIds(const Instruction* in, int64_t pos) {
    std::vector<int> ids;
    for (const Instruction* o : in->operands)
      for (int id : leaves_.at(o)) {
        ids.push_back(id);
        LogicalBuffer& b = buffers_[static_cast<size_t>(id)];
        b.last_use = std::max(b.last_use, pos);
      }
    return ids;
  }

  Status Lower(const Instruction* in, int64_t pos) {
    if (absorbed_.count(in)) return OkStatus();  // computed inside its fusions' kernels
    if (auto f = fusion_of_root_.find(in); f != fusion_of_root_.end()) return LowerFusion(*f->second, pos);
    switch (in->opcode) {
      case Opcode::kWhile:
        return LowerWhile(in, pos);
      case Opcode::kConditional:
        if (in->operands[0]->shape.dtype == DType::kPred || in->operands[0]->shape.dtype == DType::kS32) return LowerConditional(in, pos);
        break;
      case Opcode::kParameter:
        leaves_[in] = NewBuffers(in, 0);
        return OkStatus();
      case Opcode::kTuple: {
        std::vector<int>& ids = leaves_[in];
        for (const Instruction* o : in->operands) ids.insert(ids.end(), leaves_.at(o).begin(), leaves_.at(o).end());
        return OkStatus();
      }
      case Opcode::kGetTupleElement: {
        const Shape& tuple = in->operands[0]->shape;
        size_t first = 0;
        for (int64_t i = 0; i < in->tuple_index; ++i) first += LeafShapes(tuple.tuple_shapes[static_cast<size_t>(i)]).size();
        const std::vector<int>& all = leaves_.at(in->operands[0]);
        leaves_[in] = std::vector<int>(all.begin() + static_cast<std::ptrdiff_t>(first),
                                       all.begin() + static_cast<std::ptrdiff_t>(first + LeafShapes(in->shape).size()));
        return OkStatus();
      }
      case Opcode::kBitcast:
      case Opcode::kReshape:
        if (!in->shape.IsTuple() && LeafBytes(in->shape) == LeafBytes(in->operands[0]->shape)) {
          leaves_[in] = leaves_.at(in->operands[0]);
          return OkStatus();
        }
        break;
      default:
        break;
    }
    std::vector<int> inputs = OperandIds(in, pos);
    std::vector<int> outputs = NewBuffers(in, pos);
    leaves_[in] = outputs;
    if (in->opcode == Opcode::kConstant)  // bytes of its own, so a platform may fill it once at load
      for (int id : outputs) {
        LogicalBuffer& b = buffers_[static_cast<size_t>(id)];
        b.pinned = true;
        b.defined_at = 0;
        b.last_use = std::numeric_limits<int64_t>::max();
      }
    std::vector<int> ids = inputs;
    ids.insert(ids.end(), outputs.begin(), outputs.end());
    if (std::optional<Thunk> t = Special(in, inputs.size(), outputs.size())) {
      Emit(Pending{std::move(*t), std::move(ids)});
      return OkStatus();
    }
    // An instruction of a nested computation is named with its computation's name.
    std::string name = QualifiedName(in, computation_);
    kernels_.push_back(name);
    KernelThunk k{0, name, std::vector<BufferSlice>(ids.size()), {}};
    Emit(Pending{std::move(k), std::move(ids)});
    return OkStatus();
  }

  // One level of control flow, held while a while's or conditional's computations lower.
  class NestingLevel {
   public:
    explicit NestingLevel(int& depth) : depth_(&depth) { ++*depth_; }
    NestingLevel(NestingLevel&& other) noexcept : depth_(std::exchange(other.depth_, nullptr)) {}
    NestingLevel& operator=(NestingLevel&&) = delete;
    ~NestingLevel() {
      if (depth_) --*depth_;
    }

   private:
    int* depth_;
  };

  // Enters the computations of control-flow instruction `in`, refusing what nests deeper than
  // the runtime reads (kMaxControlFlowNesting).
  StatusOr<NestingLevel> Enter(const Instruction* in) {
    if (nesting_ >= kMaxControlFlowNesting)
      return InvalidArgument(in->location, ": ", in->name, ": whiles and conditionals nest more than ", kMaxControlFlowNesting,
                             " deep");
    return NestingLevel(nesting_);
  }

  // The instructions of `c` lowered into a new nested list (left current: the caller adds its
  // copies), its parameters' leaves at `parameters`. Everything inside lives for the whole
  // instruction at `pos`: nested buffers are never reused within it, so each iteration of a
  // loop finds only the loop state where the last one left it. Returns the list's nested index.
  StatusOr<uint32_t> LowerNested(const Computation& c, const std::vector<std::vector<int>>& parameters, int64_t pos) {
    computation_ = &c;
    current_ = lists_.size();
    lists_.emplace_back();
    for (size_t i = 0; i < c.parameters.size(); ++i) leaves_[c.parameters[i]] = parameters[i];
    for (const auto& in : c.instructions)
      if (in->opcode != Opcode::kParameter) PJIT_RETURN_IF_ERROR(Lower(in.get(), pos));
    return static_cast<uint32_t>(current_ - 1);
  }

  // The loop state is the while's result: copied from its operand, read by the condition and
  // the body, whose result is copied over it at the end of each iteration (a leaf that comes
  // from another leaf of the state is saved first, so the copies may permute it).
  Status LowerWhile(const Instruction* in, int64_t pos) {
    PJIT_ASSIGN_OR_RETURN(NestingLevel level, Enter(in));
    const std::vector<int> init = OperandIds(in, pos);
    const std::vector<int> state = NewBuffers(in, pos);
    leaves_[in] = state;
    for (size_t i = 0; i < state.size(); ++i) Emit(Pending{Thunk(CopyThunk{}), {init[i], state[i]}});
    const size_t outer = current_;
    const Computation* outer_computation = computation_;
    PJIT_ASSIGN_OR_RETURN(uint32_t condition, LowerNested(*in->called[0], {state}, pos));
    const int predicate = leaves_.at(in->called[0]->root)[0];
    PJIT_ASSIGN_OR_RETURN(uint32_t body, LowerNested(*in->called[1], {state}, pos));
    std::vector<int> next = leaves_.at(in->called[1]->root);
    const std::set<int> state_ids(state.begin(), state.end());
    for (size_t i = 0; i < state.size(); ++i)
      if (next[i] != state[i] && state_ids.count(next[i])) {
        int saved = static_cast<int>(buffers_.size());
        buffers_.push_back(LogicalBuffer{buffers_[static_cast<size_t>(next[i])].size, pos, pos});
        owners_.push_back(Owner{in, static_cast<uint32_t>(i), outer_computation});
        Emit(Pending{Thunk(CopyThunk{}), {next[i], saved}});
        next[i] = saved;
      }
    for (size_t i = 0; i < state.size(); ++i)
      if (next[i] != state[i]) Emit(Pending{Thunk(CopyThunk{}), {next[i], state[i]}});
    current_ = outer;
    computation_ = outer_computation;
    Emit(Pending{Thunk(WhileThunk{condition, body, {}, in->name}), {predicate}});
    return OkStatus();
  }

  // Each branch reads its operand's buffers in place and copies its result into the
  // conditional's.
  Status LowerConditional(const Instruction* in, int64_t pos) {
    PJIT_ASSIGN_OR_RETURN(NestingLevel level, Enter(in));
    OperandIds(in, pos);
    const std::vector<int> result = NewBuffers(in, pos);
    leaves_[in] = result;
    const size_t outer = current_;
    const Computation* outer_computation = computation_;
    ConditionalThunk c{{}, in->operands[0]->shape.dtype == DType::kPred, {}, in->name};
    for (size_t b = 0; b < in->called.size(); ++b) {
      PJIT_ASSIGN_OR_RETURN(uint32_t branch, LowerNested(*in->called[b], {leaves_.at(in->operands[b + 1])}, pos));
      const std::vector<int>& root = leaves_.at(in->called[b]->root);
      for (size_t i = 0; i < result.size(); ++i) Emit(Pending{Thunk(CopyThunk{}), {root[i], result[i]}});
      c.branches.push_back(branch);
    }
    current_ = outer;
    computation_ = outer_computation;
    Emit(Pending{Thunk(std::move(c)), {leaves_.at(in->operands[0])[0]}});
    return OkStatus();
  }

  // One loop kernel of the native executable: reads the fusion's inputs, writes its root.
  Status LowerFusion(const LoopFusion& f, int64_t pos) {
    std::vector<int> ids;
    for (const Instruction* input : f.inputs)
      for (int id : leaves_.at(input)) {
        ids.push_back(id);
        LogicalBuffer& b = buffers_[static_cast<size_t>(id)];
        b.last_use = std::max(b.last_use, pos);
      }
    std::vector<int> outputs = NewBuffers(f.root, pos);
    leaves_[f.root] = outputs;
    // An input the output may overwrite (checked against liveness once every reader is known).
    // Not inside a loop or branch: there every buffer lives at one position.
    if (current_ == 0)
      for (size_t i : LoopFusionInPlaceInputs(f))
        if (std::count(ids.begin(), ids.end(), ids[i]) == 1) in_place_.push_back(InPlace{ids[i], outputs[0], pos});
    ids.insert(ids.end(), outputs.begin(), outputs.end());
    for (const Instruction* sibling : f.siblings) {  // written by the same kernel, here
      leaves_[sibling] = NewBuffers(sibling, pos);
      ids.insert(ids.end(), leaves_[sibling].begin(), leaves_[sibling].end());
    }
    if (uint64_t scratch = LoopFusionScratchBytes(f)) {  // the kernel's own, live while it runs
      ids.push_back(static_cast<int>(buffers_.size()));
      owners_.push_back(Owner{f.root, static_cast<uint32_t>(LeafShapes(f.root->shape).size()), computation_});
      buffers_.push_back(LogicalBuffer{scratch, pos, pos});
      scratch_ids_.insert(ids.back());
    }
    KernelThunk k{1, f.name, std::vector<BufferSlice>(ids.size()), {static_cast<uint64_t>(LoopFusionRows(f))}};
    Emit(Pending{std::move(k), std::move(ids)});
    return OkStatus();
  }

  // A gemm, collective or copy thunk for `in`, when it is one.
  std::optional<Thunk> Special(const Instruction* in, size_t num_inputs, size_t num_outputs) {
    if (in->opcode == Opcode::kCopy && !in->shape.IsTuple()) return Thunk(CopyThunk{});
    if (in->opcode == Opcode::kDot) return Gemm(in);
    return Collective(in, num_inputs, num_outputs);
  }

  static std::optional<Thunk> Gemm(const Instruction* in) {
    const Shape& l = in->operands[0]->shape;
    const Shape& r = in->operands[1]->shape;
    DType t = in->shape.dtype;
    if ((t != DType::kF32 && t != DType::kF64 && t != DType::kBF16) || l.dtype != t || r.dtype != t) return std::nullopt;
    const DotDimensionNumbers& d = in->dot_dims;
    int64_t b = static_cast<int64_t>(d.lhs_batch.size());
    for (int64_t i = 0; i < b; ++i)
      if (d.lhs_batch[static_cast<size_t>(i)] != i || d.rhs_batch[static_cast<size_t>(i)] != i) return std::nullopt;
    if (d.lhs_contracting.size() != 1 || d.rhs_contracting.size() != 1) return std::nullopt;
    int64_t lc = d.lhs_contracting[0], rc = d.rhs_contracting[0];
    // The free dims of each side are contiguous when the contracting dim is first after the
    // batch dims or last: then they flatten into m (or n), as [.., m, k] or [.., k, m].
    auto side = [b](const Shape& s, int64_t c, bool* k_last) -> std::optional<int64_t> {
      if (c < b || (c != b && c != s.rank() - 1)) return std::nullopt;
      *k_last = c == s.rank() - 1;
      int64_t free = 1;
      for (int64_t i = b; i < s.rank(); ++i)
        if (i != c) free *= s.dims[static_cast<size_t>(i)];
      return free;
    };
    bool lhs_k_last = false, rhs_k_last = false;
    std::optional<int64_t> m = side(l, lc, &lhs_k_last), n = side(r, rc, &rhs_k_last);
    if (!m || !n) return std::nullopt;
    GemmThunk g;
    g.dtype = t;
    g.batch = 1;
    for (int64_t i = 0; i < b; ++i) g.batch *= l.dims[static_cast<size_t>(i)];
    g.k = l.dims[static_cast<size_t>(lc)];
    g.m = *m;
    g.n = *n;
    g.transpose_lhs = !lhs_k_last;  // lhs stored k×m
    g.transpose_rhs = rhs_k_last && rc != b;  // rhs stored n×k (a vector is k either way)
    return Thunk(g);
  }

  static std::optional<Thunk> Collective(const Instruction* in, size_t num_inputs, size_t num_outputs) {
    static const std::unordered_map<Opcode, std::string> kinds = {
        {Opcode::kAllReduce, "all-reduce"}, {Opcode::kAllGather, "all-gather"}, {Opcode::kReduceScatter, "reduce-scatter"},
        {Opcode::kAllToAll, "all-to-all"}, {Opcode::kCollectivePermute, "collective-permute"}};
    auto kind = kinds.find(in->opcode);
    if (kind == kinds.end() || num_inputs != num_outputs || num_inputs == 0) return std::nullopt;
    CollectiveThunk c;
    c.kind = kind->second;
    c.name = in->name;
    const Shape& first = in->operands[0]->shape;
    c.dtype = first.dtype;
    c.dims = first.dims;
    for (const Instruction* o : in->operands)
      if (o->shape.IsTuple() || o->shape.dtype != c.dtype || o->shape.dims != c.dims) return std::nullopt;
    bool reducing = in->opcode == Opcode::kAllReduce || in->opcode == Opcode::kReduceScatter;
    if (reducing) {
      std::optional<std::string> r = in->called.empty() ? std::nullopt : ThunkReduction(*in->called[0]);
      if (!r) return std::nullopt;
      c.reduction = *r;
    }
    bool dimensioned = in->opcode == Opcode::kAllGather || in->opcode == Opcode::kReduceScatter || in->opcode == Opcode::kAllToAll;
    if (dimensioned) {
      // Tuple-form all-to-all (several operands, no dimension) stays a kernel.
      if (in->dimensions.size() != 1 || num_inputs != 1) return std::nullopt;
      c.dimension = in->dimensions[0];
    }
    c.replica_groups = in->replica_groups.groups;
    c.source_target_pairs = in->source_target_pairs;
    c.channel_id = in->channel_id.value_or(0);
    c.inputs.resize(num_inputs);
    c.outputs.resize(num_outputs);
    return Thunk(std::move(c));
  }

  // The instruction (and leaf) whose value a buffer holds.
  struct Owner {
    const Instruction* instruction;
    uint32_t leaf;
    const Computation* computation;  // the instruction's
  };

  // An instruction's name in the plan: "COMPUTATION/NAME" outside the entry.
  std::string QualifiedName(const Instruction* in, const Computation* c) const {
    return c == module_.entry ? in->name : c->name + "/" + in->name;
  }

  const Module& module_;
  const std::vector<LoopFusion>& fusions_;
  std::unordered_map<const Instruction*, const LoopFusion*> fusion_of_root_;
  std::unordered_set<const Instruction*> absorbed_;
  std::vector<LogicalBuffer> buffers_;
  std::vector<Owner> owners_;  // by buffer id
  std::unordered_map<const Instruction*, std::vector<int>> leaves_;
  std::vector<std::vector<Pending>> lists_{1};  // the top level, then the nested lists
  int nesting_ = 0;                             // whiles and conditionals around what lowers now
  size_t current_ = 0;                          // the list Emit adds to
  const Computation* computation_ = module_.entry;  // the computation being lowered
  std::vector<std::string> kernels_;
  std::vector<int> parameter_ids_, result_ids_;
  std::set<int> scratch_ids_;  // kernels' scratch buffers (their leaf numbers follow the outputs')
  // A kernel at position `at` whose output may take the buffer of its input.
  struct InPlace {
    int input, output;
    int64_t at;
  };
  std::vector<InPlace> in_place_;
};

}  // namespace

StatusOr<ThunkPlan> LowerToThunks(const Module& device_program, const std::vector<LoopFusion>& fusions) {
  return Lowering(device_program, fusions).Run();
}

}  // namespace pjit
