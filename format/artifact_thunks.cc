#include "format/artifact_thunks.h"

#include <algorithm>
#include <set>

#include "format/artifact_program.h"

namespace pjit {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

fb::BufferSlice ToFb(const BufferSlice& s) { return fb::BufferSlice(s.offset, s.size); }

Offset<flatbuffers::Vector<const fb::BufferSlice*>> Slices(FlatBufferBuilder& b, const std::vector<BufferSlice>& slices) {
  std::vector<fb::BufferSlice> out;
  for (const BufferSlice& s : slices) out.push_back(ToFb(s));
  return b.CreateVectorOfStructs(out);
}

std::vector<BufferSlice> FromFb(const flatbuffers::Vector<const fb::BufferSlice*>* v) {
  std::vector<BufferSlice> out;
  for (const fb::BufferSlice& s : ReadStructs(v)) out.push_back({s.offset(), s.size()});
  return out;
}

BufferSlice FromFb(const fb::BufferSlice* s) { return s ? BufferSlice{s->offset(), s->size()} : BufferSlice{}; }

std::string Str(const flatbuffers::String* s) { return s ? s->str() : ""; }

struct ThunkOffset {
  fb::Thunk type;
  Offset<void> value;
};

ThunkOffset ThunkToFb(FlatBufferBuilder& b, const Thunk& thunk) {
  if (const auto* k = std::get_if<KernelThunk>(&thunk)) {
    auto name = b.CreateString(k->kernel);
    auto args = Slices(b, k->arguments);
    auto launch = b.CreateVector(k->launch);
    return {fb::Thunk::KernelThunk, fb::CreateKernelThunk(b, k->executable, name, args, launch).Union()};
  }
  if (const auto* g = std::get_if<GemmThunk>(&thunk)) {
    fb::BufferSlice lhs = ToFb(g->lhs), rhs = ToFb(g->rhs), out = ToFb(g->out);
    return {fb::Thunk::GemmThunk, fb::CreateGemmThunk(b, &lhs, &rhs, &out, static_cast<fb::DType>(g->dtype), g->batch, g->m,
                                                      g->n, g->k, g->transpose_lhs, g->transpose_rhs).Union()};
  }
  if (const auto* c = std::get_if<CollectiveThunk>(&thunk)) {
    std::vector<Offset<fb::ReplicaGroup>> groups;
    for (const auto& g : c->replica_groups) groups.push_back(fb::CreateReplicaGroup(b, b.CreateVector(g)));
    std::vector<fb::SourceTarget> pairs;
    for (const auto& [s, t] : c->source_target_pairs) pairs.emplace_back(s, t);
    auto kind = b.CreateString(c->kind);
    auto reduction = b.CreateString(c->reduction);
    auto group_vector = b.CreateVector(groups);
    auto pair_vector = b.CreateVectorOfStructs(pairs);
    auto inputs = Slices(b, c->inputs);
    auto outputs = Slices(b, c->outputs);
    auto dims = b.CreateVector(c->dims);
    auto name = b.CreateString(c->name);
    return {fb::Thunk::CollectiveThunk,
            fb::CreateCollectiveThunk(b, kind, reduction, static_cast<fb::DType>(c->dtype), group_vector, pair_vector,
                                      c->dimension, inputs, outputs, c->channel_id, dims, name).Union()};
  }
  if (const auto* w = std::get_if<WhileThunk>(&thunk)) {
    fb::BufferSlice predicate = ToFb(w->predicate);
    return {fb::Thunk::WhileThunk, fb::CreateWhileThunkDirect(b, w->condition, w->body, &predicate, w->name.c_str()).Union()};
  }
  if (const auto* c = std::get_if<ConditionalThunk>(&thunk)) {
    fb::BufferSlice index = ToFb(c->index);
    return {fb::Thunk::ConditionalThunk,
            fb::CreateConditionalThunkDirect(b, &index, c->predicate, &c->branches, c->name.c_str()).Union()};
  }
  const auto& copy = std::get<CopyThunk>(thunk);
  fb::BufferSlice source = ToFb(copy.source), destination = ToFb(copy.destination);
  return {fb::Thunk::CopyThunk, fb::CreateCopyThunk(b, &source, &destination).Union()};
}

struct ThunkVectors {
  Offset<flatbuffers::Vector<fb::Thunk>> types;
  Offset<flatbuffers::Vector<Offset<void>>> values;
};

ThunkVectors ThunksToFb(FlatBufferBuilder& b, const std::vector<Thunk>& thunks) {
  std::vector<fb::Thunk> types;
  std::vector<Offset<void>> values;
  for (const Thunk& t : thunks) {
    ThunkOffset o = ThunkToFb(b, t);
    types.push_back(o.type);
    values.push_back(o.value);
  }
  return {b.CreateVector(types), b.CreateVector(values)};
}

// Errors name where in the plan they are.
struct PlanChecker {
  uint64_t arena = 0;
  std::string where;

  Status Slice(const BufferSlice& s) const {
    if (s.offset > arena || s.size > arena - s.offset)
      return InvalidArgument(where, "slice [", s.offset, ", +", s.size, ") outside the arena of ", arena, " bytes");
    return OkStatus();
  }
  Status Slices(const std::vector<BufferSlice>& v) const {
    for (const BufferSlice& s : v) PJIT_RETURN_IF_ERROR(Slice(s));
    return OkStatus();
  }
};

// The thunks of one list: `types` and `values` as FlatBuffers stores a vector of a union.
struct FbThunks {
  const flatbuffers::Vector<fb::Thunk>* types;
  const flatbuffers::Vector<Offset<void>>* values;
  size_t size() const { return values ? values->size() : 0; }
  const void* Get(size_t i) const { return values->Get(static_cast<flatbuffers::uoffset_t>(i)); }
};

// `list`: the list the thunk is in (-1: the top level), of `lists` nested ones; a thunk names
// only lists after its own.
StatusOr<Thunk> ThunkFromFb(const FbThunks& thunks, size_t i, const PlanChecker& check, size_t num_executables, int64_t list,
                            size_t lists) {
  auto nested = [&](uint32_t l) -> Status {
    if (static_cast<int64_t>(l) <= list || l >= lists)
      return InvalidArgument(check.where, "names thunk list ", l, ", not one of the ", lists, " nested lists after its own");
    return OkStatus();
  };
  switch (thunks.types->Get(static_cast<flatbuffers::uoffset_t>(i))) {
    case fb::Thunk::WhileThunk: {
      const auto* w = static_cast<const fb::WhileThunk*>(thunks.Get(i));
      WhileThunk t{w->condition(), w->body(), FromFb(w->predicate()), Str(w->name())};
      PJIT_RETURN_IF_ERROR(nested(t.condition));
      PJIT_RETURN_IF_ERROR(nested(t.body));
      if (t.predicate.size != 1) return InvalidArgument(check.where, "while predicate of ", t.predicate.size, " bytes, not a pred");
      PJIT_RETURN_IF_ERROR(check.Slice(t.predicate));
      return Thunk(std::move(t));
    }
    case fb::Thunk::ConditionalThunk: {
      const auto* c = static_cast<const fb::ConditionalThunk*>(thunks.Get(i));
      ConditionalThunk t{FromFb(c->index()), c->predicate(), {}, Str(c->name())};
      if (c->branches()) t.branches.assign(c->branches()->begin(), c->branches()->end());
      for (uint32_t l : t.branches) PJIT_RETURN_IF_ERROR(nested(l));
      if (t.index.size != (t.predicate ? 1u : 4u) || t.branches.empty() || (t.predicate && t.branches.size() != 2))
        return InvalidArgument(check.where, "conditional with a ", t.index.size, "-byte index and ", t.branches.size(), " branches");
      PJIT_RETURN_IF_ERROR(check.Slice(t.index));
      return Thunk(std::move(t));
    }
    case fb::Thunk::KernelThunk: {
      const auto* k = static_cast<const fb::KernelThunk*>(thunks.Get(i));
      KernelThunk t{k->executable(), Str(k->kernel()), FromFb(k->arguments()), {}};
      if (k->launch()) t.launch.assign(k->launch()->begin(), k->launch()->end());
      if (t.executable >= num_executables) return InvalidArgument(check.where, "kernel of executable ", t.executable, " of ", num_executables);
      PJIT_RETURN_IF_ERROR(check.Slices(t.arguments));
      return Thunk(std::move(t));
    }
    case fb::Thunk::GemmThunk: {
      const auto* g = static_cast<const fb::GemmThunk*>(thunks.Get(i));
      GemmThunk t{FromFb(g->lhs()), FromFb(g->rhs()), FromFb(g->out()), static_cast<DType>(g->dtype()), g->batch(), g->m(),
                  g->n(), g->k(), g->transpose_lhs(), g->transpose_rhs()};
      if (t.dtype != DType::kF32 && t.dtype != DType::kF64 && t.dtype != DType::kBF16) return InvalidArgument(check.where, "gemm of dtype ", DTypeName(t.dtype));
      uint64_t w = static_cast<uint64_t>(DTypeByteSize(t.dtype));
      bool sane = t.batch >= 0 && t.m >= 0 && t.n >= 0 && t.k >= 0 && t.batch < (int64_t{1} << 31) && t.m < (int64_t{1} << 31) &&
                  t.n < (int64_t{1} << 31) && t.k < (int64_t{1} << 31);
      if (!sane) return InvalidArgument(check.where, "gemm dimensions out of range");
      auto bytes = [&](int64_t a, int64_t b) {
        return static_cast<unsigned __int128>(t.batch) * static_cast<uint64_t>(a) * static_cast<uint64_t>(b) * w;
      };
      if (bytes(t.m, t.k) != t.lhs.size || bytes(t.k, t.n) != t.rhs.size || bytes(t.m, t.n) != t.out.size)
        return InvalidArgument(check.where, "gemm slices do not match ", t.batch, "x", t.m, "x", t.k, "x", t.n);
      PJIT_RETURN_IF_ERROR(check.Slices({t.lhs, t.rhs, t.out}));
      return Thunk(t);
    }
    case fb::Thunk::CollectiveThunk: {
      const auto* c = static_cast<const fb::CollectiveThunk*>(thunks.Get(i));
      CollectiveThunk t;
      t.kind = Str(c->kind());
      t.reduction = Str(c->reduction());
      t.dtype = static_cast<DType>(c->dtype());
      t.dims = ReadLongs(c->dims());
      if (c->replica_groups())
        for (const fb::ReplicaGroup* g : *c->replica_groups()) t.replica_groups.push_back(ReadLongs(g->ids()));
      for (const fb::SourceTarget& st : ReadStructs(c->source_target_pairs())) t.source_target_pairs.emplace_back(st.source(), st.target());
      t.dimension = c->dimension();
      t.inputs = FromFb(c->inputs());
      t.outputs = FromFb(c->outputs());
      t.channel_id = c->channel_id();
      t.name = Str(c->name());
      static const std::set<std::string> kinds = {"all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute"};
      if (!kinds.count(t.kind)) return InvalidArgument(check.where, "unknown collective '", t.kind, "'");
      static const std::set<std::string> reductions = {"add", "multiply", "maximum", "minimum", "and", "or"};
      bool reducing = t.kind == "all-reduce" || t.kind == "reduce-scatter";
      if (reducing && !reductions.count(t.reduction)) return InvalidArgument(check.where, "unknown reduction '", t.reduction, "'");
      if (!IsArrayType(t.dtype)) return InvalidArgument(check.where, "collective of dtype ", static_cast<int>(t.dtype));
      for (int64_t d : t.dims)
        if (d < 0 || d > (int64_t{1} << 40)) return InvalidArgument(check.where, "collective dims out of range");
      if (t.dimension < 0 || (!t.dims.empty() && t.dimension >= static_cast<int64_t>(t.dims.size())) || (t.dims.empty() && t.dimension != 0))
        return InvalidArgument(check.where, "collective dimension ", t.dimension, " of rank ", t.dims.size());
      if (t.inputs.size() != t.outputs.size() || t.inputs.empty())
        return InvalidArgument(check.where, "collective with ", t.inputs.size(), " inputs and ", t.outputs.size(), " outputs");
      PJIT_RETURN_IF_ERROR(check.Slices(t.inputs));
      PJIT_RETURN_IF_ERROR(check.Slices(t.outputs));
      return Thunk(std::move(t));
    }
    case fb::Thunk::CopyThunk: {
      const auto* c = static_cast<const fb::CopyThunk*>(thunks.Get(i));
      CopyThunk t{FromFb(c->source()), FromFb(c->destination())};
      if (t.source.size != t.destination.size) return InvalidArgument(check.where, "copy of ", t.source.size, " into ", t.destination.size, " bytes");
      PJIT_RETURN_IF_ERROR(check.Slices({t.source, t.destination}));
      return Thunk(t);
    }
    default:
      return InvalidArgument(check.where, "unknown thunk type");
  }
}

}  // namespace

Offset<fb::ThunkSequences> ThunkSequencesToFlatBuffer(FlatBufferBuilder& b, const std::vector<ThunkSequence>& sequences) {
  std::vector<Offset<fb::ThunkSequence>> out;
  for (const ThunkSequence& s : sequences) {
    ThunkVectors top = ThunksToFb(b, s.thunks);
    std::vector<Offset<fb::ThunkList>> nested;
    for (const std::vector<Thunk>& list : s.nested) {
      ThunkVectors v = ThunksToFb(b, list);
      nested.push_back(fb::CreateThunkList(b, v.types, v.values));
    }
    auto nested_vector = b.CreateVector(nested);
    auto parameters = Slices(b, s.parameters);
    auto results = Slices(b, s.results);
    std::vector<Offset<fb::BufferInfo>> buffers;
    for (const BufferInfo& info : s.buffers) {
      fb::BufferSlice slice = ToFb(info.slice);
      buffers.push_back(fb::CreateBufferInfoDirect(b, info.instruction.c_str(), info.leaf, static_cast<fb::BufferKind>(info.kind),
                                                   &slice, info.defined_at, info.last_use));
    }
    auto buffer_vector = b.CreateVector(buffers);
    out.push_back(fb::CreateThunkSequence(b, s.device, top.types, top.values, s.arena_bytes, s.peak_bytes, parameters,
                                          results, buffer_vector, nested_vector));
  }
  return fb::CreateThunkSequences(b, b.CreateVector(out));
}

Offset<fb::Executables> ExecutablesToFlatBuffer(FlatBufferBuilder& b, const std::vector<ExecutableInfo>& executables,
                                                const std::vector<uint32_t>& blobs) {
  std::vector<Offset<fb::Executable>> out;
  for (size_t i = 0; i < executables.size(); ++i) {
    const ExecutableInfo& e = executables[i];
    std::vector<Offset<fb::Kernel>> kernels;
    for (size_t k = 0; k < e.kernels.size(); ++k)
      kernels.push_back(fb::CreateKernelDirect(b, e.kernels[k].c_str(), k < e.launches.size() ? &e.launches[k] : nullptr));
    auto target = b.CreateString(e.target);
    auto format = b.CreateString(e.format);
    auto kernel_vector = b.CreateVector(kernels);
    auto cpu = b.CreateString(e.cpu);
    auto features = b.CreateVectorOfStrings(e.cpu_features);
    out.push_back(fb::CreateExecutable(b, target, format, blobs[i], 0, kernel_vector, cpu, features));
  }
  return fb::CreateExecutables(b, b.CreateVector(out));
}

StatusOr<ThunkPlan> ThunkPlanFromFlatBuffer(const fb::ThunkSequences* sequences, const fb::Executables* executables,
                                            const BlobLookup& blob) {
  ThunkPlan plan;
  if (executables && executables->executables())
    for (const fb::Executable* e : *executables->executables()) {
      ExecutableInfo info{Str(e->target()), Str(e->format()), {}, {}, Str(e->cpu()), {}, {}};
      if (e->cpu_features())
        for (const flatbuffers::String* f : *e->cpu_features()) info.cpu_features.push_back(Str(f));
      if (e->kernels())
        for (const fb::Kernel* k : *e->kernels()) {
          info.kernels.push_back(Str(k->name()));
          if (k->launch()) {
            info.launches.resize(info.kernels.size());
            info.launches.back().assign(k->launch()->begin(), k->launch()->end());
          }
        }
      if (info.format != "hlo") {
        PJIT_ASSIGN_OR_RETURN(std::string_view bytes, blob(e->blob()));
        info.binary = std::string(bytes);
      }
      plan.executables.push_back(std::move(info));
    }
  if (!sequences || !sequences->sequences()) return plan;
  for (flatbuffers::uoffset_t s = 0; s < sequences->sequences()->size(); ++s) {
    const fb::ThunkSequence* seq = sequences->sequences()->Get(s);
    ThunkSequence out;
    out.device = seq->device();
    out.arena_bytes = seq->arena_bytes();
    out.peak_bytes = seq->peak_bytes();
    PlanChecker check{out.arena_bytes, StrCat("sequence ", s, ": ")};
    out.parameters = FromFb(seq->parameters());
    out.results = FromFb(seq->results());
    PJIT_RETURN_IF_ERROR(check.Slices(out.parameters));
    PJIT_RETURN_IF_ERROR(check.Slices(out.results));
    if (seq->buffers())
      for (flatbuffers::uoffset_t i = 0; i < seq->buffers()->size(); ++i) {
        const fb::BufferInfo* f = seq->buffers()->Get(i);
        PlanChecker at{out.arena_bytes, StrCat("sequence ", s, " buffer ", i, ": ")};
        if (f->kind() > fb::BufferKind::MAX) return InvalidArgument(at.where, "unknown buffer kind");
        if (f->defined_at() < 0 || f->last_use() < f->defined_at()) return InvalidArgument(at.where, "live range ", f->defined_at(), "..", f->last_use(), " is empty");
        BufferInfo info{Str(f->instruction()), f->leaf(), static_cast<BufferInfo::Kind>(f->kind()), FromFb(f->slice()),
                        f->defined_at(), f->last_use()};
        PJIT_RETURN_IF_ERROR(at.Slice(info.slice));
        out.buffers.push_back(std::move(info));
      }
    const size_t lists = seq->nested() ? seq->nested()->size() : 0;
    // The top level (-1), then each nested list.
    for (int64_t l = -1; l < static_cast<int64_t>(lists); ++l) {
      const fb::ThunkList* nested = l < 0 ? nullptr : seq->nested()->Get(static_cast<flatbuffers::uoffset_t>(l));
      FbThunks thunks = l < 0 ? FbThunks{seq->thunks_type(), seq->thunks()} : FbThunks{nested->thunks_type(), nested->thunks()};
      std::string list = l < 0 ? "" : StrCat(" nested list ", l);
      if ((thunks.types ? thunks.types->size() : 0) != thunks.size())
        return InvalidArgument(check.where, "thunk types and thunks", list, " differ in number");
      std::vector<Thunk>& into = l < 0 ? out.thunks : out.nested.emplace_back();
      for (size_t i = 0; i < thunks.size(); ++i) {
        PlanChecker at{out.arena_bytes, StrCat("sequence ", s, list, " thunk ", i, ": ")};
        PJIT_ASSIGN_OR_RETURN(Thunk t, ThunkFromFb(thunks, i, at, plan.executables.size(), l, lists));
        into.push_back(std::move(t));
      }
    }
    // Lists name only later ones, so depths follow from the last list back.
    std::vector<int> depth(lists, 1);
    for (size_t l = lists; l-- > 0;)
      for (const Thunk& t : out.nested[l])
        for (uint32_t inner : NestedLists(t)) depth[l] = std::max(depth[l], depth[inner] + 1);
    for (size_t l = 0; l < lists; ++l)
      if (depth[l] > kMaxControlFlowNesting) return InvalidArgument(check.where, "nested list ", l, " nests ", depth[l], " deep, more than ", kMaxControlFlowNesting);
    plan.sequences.push_back(std::move(out));
  }
  return plan;
}

}  // namespace pjit
