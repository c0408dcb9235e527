#include "format/artifact_program.h"

#include <unordered_map>

namespace pjit {
namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

// Shapes above this many elements are refused, so sizes never overflow int64.
constexpr int kMaxTupleDepth = 32;

Offset<flatbuffers::Vector<int64_t>> Longs(FlatBufferBuilder& b, const std::vector<int64_t>& v) {
  return b.CreateVector(v);
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

Offset<flatbuffers::Vector<Offset<fb::KeyValue>>> KeyValues(FlatBufferBuilder& b,
                                                            const std::vector<std::pair<std::string, std::string>>& kv) {
  std::vector<Offset<fb::KeyValue>> out;
  for (const auto& [k, v] : kv) out.push_back(fb::CreateKeyValueDirect(b, k.c_str(), v.c_str()));
  return b.CreateVector(out);
}

std::vector<std::pair<std::string, std::string>> FromKeyValues(const flatbuffers::Vector<Offset<fb::KeyValue>>* kv) {
  std::vector<std::pair<std::string, std::string>> out;
  if (kv)
    for (const fb::KeyValue* e : *kv) out.emplace_back(Str(e->key()), Str(e->value()));
  return out;
}

Offset<fb::Literal> LiteralToFlatBuffer(FlatBufferBuilder& b, const Literal& l, const std::string& name,
                                        const BlobSink& blobs) {
  auto shape = ShapeToFlatBuffer(b, l.shape());
  if (l.shape().IsTuple()) {
    std::vector<Offset<fb::Literal>> elements;
    for (size_t i = 0; i < l.elements().size(); ++i)
      elements.push_back(LiteralToFlatBuffer(b, l.elements()[i], name + "#" + std::to_string(i), blobs));
    return fb::CreateLiteral(b, shape, -1, b.CreateVector(elements));
  }
  if (!l.shape().IsArray()) return fb::CreateLiteral(b, shape);
  std::string_view bytes(reinterpret_cast<const char*>(l.bytes().data()), l.bytes().size());
  return fb::CreateLiteral(b, shape, static_cast<int32_t>(blobs(name, bytes)));
}

StatusOr<Literal> LiteralFromFlatBuffer(const fb::Literal* l, const BlobSource& blobs) {
  if (!l) return InvalidArgument("constant without a value");
  PJIT_ASSIGN_OR_RETURN(Shape shape, ShapeFromFlatBuffer(l->shape()));
  if (shape.IsTuple()) {
    if (!l->elements() || l->elements()->size() != shape.tuple_shapes.size())
      return InvalidArgument("tuple constant has the wrong number of elements");
    std::vector<Literal> elements;
    for (const fb::Literal* e : *l->elements()) {
      PJIT_ASSIGN_OR_RETURN(Literal v, LiteralFromFlatBuffer(e, blobs));
      elements.push_back(std::move(v));
    }
    return Literal::Tuple(std::move(elements));
  }
  if (!shape.IsArray()) return Literal(shape);
  PJIT_ASSIGN_OR_RETURN(std::string_view bytes, blobs(l->blob()));
  if (static_cast<int64_t>(bytes.size()) != shape.ByteSize())
    return InvalidArgument("constant blob ", l->blob(), " holds ", bytes.size(), " bytes, ", shape.ToString(false), " needs ", shape.ByteSize());
  Literal out(shape);
  std::memcpy(out.bytes().data(), bytes.data(), bytes.size());
  if (shape.dtype == DType::kPred)
    for (char c : bytes)
      if (static_cast<unsigned char>(c) > 1) return InvalidArgument("pred constant holds a value other than 0 or 1");
  return out;
}

StatusOr<Shape> ShapeFromFlatBufferAtDepth(const fb::Shape* s, int depth) {
  if (!s) return InvalidArgument("missing shape");
  if (depth > kMaxTupleDepth) return InvalidArgument("tuple shapes nested deeper than ", kMaxTupleDepth);
  auto dtype = static_cast<DType>(s->dtype());
  if (dtype == DType::kInvalid || dtype > DType::kToken) return InvalidArgument("invalid element type ", static_cast<int>(s->dtype()));
  if (dtype == DType::kTuple) {
    std::vector<Shape> elements;
    if (s->tuple_shapes())
      for (const fb::Shape* e : *s->tuple_shapes()) {
        PJIT_ASSIGN_OR_RETURN(Shape x, ShapeFromFlatBufferAtDepth(e, depth + 1));
        elements.push_back(std::move(x));
      }
    return Shape::Tuple(std::move(elements));
  }
  if (dtype == DType::kToken) return Shape::Token();
  Shape shape = Shape::Array(dtype, ReadLongs(s->dims()));
  int64_t n = 1;
  for (int64_t d : shape.dims) {
    if (d < 0) return InvalidArgument("negative dimension in ", shape.ToString(false));
    if (d > 0 && n > kMaxElementCount / d) return InvalidArgument("shape with more than 2^50 elements");
    n *= d;
  }
  if (s->has_layout()) {
    Layout layout{ReadLongs(s->minor_to_major()), Str(s->layout_details())};
    std::vector<bool> seen(shape.dims.size(), false);
    if (layout.minor_to_major.size() != shape.dims.size()) return InvalidArgument("layout does not match the rank of ", shape.ToString(false));
    for (int64_t d : layout.minor_to_major) {
      if (d < 0 || d >= shape.rank() || seen[d]) return InvalidArgument("layout is not a permutation");
      seen[d] = true;
    }
    shape.layout = std::move(layout);
  }
  return shape;
}

Offset<fb::Instruction> InstructionToFlatBuffer(FlatBufferBuilder& b, const Instruction& in,
                                                const std::unordered_map<const Instruction*, uint32_t>& index,
                                                const std::unordered_map<const Computation*, uint32_t>& comp_index,
                                                const BlobSink& blobs) {
  auto name = b.CreateString(in.name);
  auto opcode = b.CreateString(OpcodeName(in.opcode));
  auto shape = ShapeToFlatBuffer(b, in.shape);
  std::vector<uint32_t> operands, called;
  for (const Instruction* o : in.operands) operands.push_back(index.at(o));
  for (const Computation* c : in.called) called.push_back(comp_index.at(c));
  auto operands_fb = b.CreateVector(operands);
  auto called_fb = b.CreateVector(called);
  Offset<fb::Literal> literal;
  if (in.opcode == Opcode::kConstant) literal = LiteralToFlatBuffer(b, in.literal, in.name, blobs);
  auto dimensions = Longs(b, in.dimensions);
  std::vector<fb::SliceDim> slice;
  for (const SliceDim& s : in.slice) slice.emplace_back(s.start, s.limit, s.stride);
  auto slice_fb = b.CreateVectorOfStructs(slice);
  auto slice_sizes = Longs(b, in.slice_sizes);
  std::vector<fb::PaddingDim> padding;
  for (const PaddingDim& p : in.padding) padding.emplace_back(p.low, p.high, p.interior);
  auto padding_fb = b.CreateVectorOfStructs(padding);
  const DotDimensionNumbers& d = in.dot_dims;
  auto dot = fb::CreateDotDims(b, Longs(b, d.lhs_batch), Longs(b, d.rhs_batch), Longs(b, d.lhs_contracting), Longs(b, d.rhs_contracting));
  std::vector<fb::WindowDim> window;
  for (const WindowDimension& w : in.window)
    window.emplace_back(w.size, w.stride, w.padding_low, w.padding_high, w.window_dilation, w.base_dilation, w.window_reversal);
  auto window_fb = b.CreateVectorOfStructs(window);
  const ConvolutionDimensionNumbers& c = in.conv_dims;
  auto conv = fb::CreateConvDims(b, c.input_batch, c.input_feature, Longs(b, c.input_spatial), c.kernel_input_feature,
                                 c.kernel_output_feature, Longs(b, c.kernel_spatial), c.output_batch, c.output_feature,
                                 Longs(b, c.output_spatial));
  const GatherDimensionNumbers& g = in.gather_dims;
  auto gather = fb::CreateGatherDims(b, Longs(b, g.offset_dims), Longs(b, g.collapsed_slice_dims), Longs(b, g.start_index_map),
                                     Longs(b, g.operand_batching_dims), Longs(b, g.start_indices_batching_dims), g.index_vector_dim);
  const ScatterDimensionNumbers& s = in.scatter_dims;
  auto scatter = fb::CreateScatterDims(b, Longs(b, s.update_window_dims), Longs(b, s.inserted_window_dims),
                                       Longs(b, s.scatter_dims_to_operand_dims), Longs(b, s.input_batching_dims),
                                       Longs(b, s.scatter_indices_batching_dims), s.index_vector_dim);
  std::vector<Offset<fb::ReplicaGroup>> groups;
  for (const auto& group : in.replica_groups.groups) groups.push_back(fb::CreateReplicaGroup(b, Longs(b, group)));
  auto groups_fb = b.CreateVector(groups);
  Offset<fb::IotaTiles> iota;
  if (in.replica_groups.iota) {
    const IotaTileAssignment& t = *in.replica_groups.iota;
    iota = fb::CreateIotaTiles(b, Longs(b, t.dims), Longs(b, t.reshape_dims), Longs(b, t.transpose_perm));
  }
  std::vector<fb::SourceTarget> pairs;
  for (const auto& [src, dst] : in.source_target_pairs) pairs.emplace_back(src, dst);
  auto pairs_fb = b.CreateVectorOfStructs(pairs);
  auto target = b.CreateString(in.custom_call_target);
  auto rng = b.CreateString(in.rng_algorithm);
  auto precision = b.CreateVectorOfStrings(in.operand_precision);
  Offset<flatbuffers::String> sharding;
  if (in.sharding) sharding = b.CreateString(in.sharding->ToString());
  const OpMetadata& m = in.metadata;
  auto metadata = fb::CreateMetadata(b, b.CreateString(m.op_type), b.CreateString(m.op_name), b.CreateString(m.source_file),
                                     m.source_line, KeyValues(b, m.other));
  auto frontend = b.CreateString(in.frontend_attributes);
  auto backend = b.CreateString(in.backend_config);
  auto opaque = KeyValues(b, in.opaque_attributes);
  auto location = b.CreateString(in.location);
  const ShardingProvenance& p = in.sharding_provenance;
  auto provenance = fb::CreateShardingProvenanceDirect(b, static_cast<fb::ShardingOrigin>(p.origin), p.from.c_str(), p.operand,
                                                       p.rule.c_str(), p.level, p.pass);
  const SpmdOrigin& o = in.spmd_origin;
  Offset<fb::SpmdOrigin> origin;
  if (o != SpmdOrigin{})
    origin = fb::CreateSpmdOriginDirect(b, o.instruction.c_str(), o.resharded.c_str(), o.from_sharding.c_str(),
                                        o.to_sharding.c_str(), o.fallback);

  fb::InstructionBuilder ib(b);
  ib.add_name(name);
  ib.add_opcode(opcode);
  ib.add_shape(shape);
  ib.add_operands(operands_fb);
  ib.add_called(called_fb);
  if (!literal.IsNull()) ib.add_literal(literal);
  ib.add_parameter_number(in.parameter_number);
  ib.add_tuple_index(in.tuple_index);
  ib.add_dimensions(dimensions);
  ib.add_slice(slice_fb);
  ib.add_slice_sizes(slice_sizes);
  ib.add_padding(padding_fb);
  ib.add_dot_dims(dot);
  ib.add_window(window_fb);
  ib.add_conv_dims(conv);
  ib.add_feature_group_count(in.feature_group_count);
  ib.add_batch_group_count(in.batch_group_count);
  ib.add_gather_dims(gather);
  ib.add_scatter_dims(scatter);
  ib.add_indices_are_sorted(in.indices_are_sorted);
  ib.add_unique_indices(in.unique_indices);
  ib.add_comparison_direction(static_cast<uint8_t>(in.comparison_direction));
  ib.add_comparison_type(in.comparison_type ? static_cast<uint8_t>(*in.comparison_type) + 1 : 0);
  ib.add_replica_groups(groups_fb);
  if (!iota.IsNull()) ib.add_replica_groups_iota(iota);
  ib.add_has_channel_id(in.channel_id.has_value());
  ib.add_channel_id(in.channel_id.value_or(0));
  ib.add_use_global_device_ids(in.use_global_device_ids);
  ib.add_constrain_layout(in.constrain_layout);
  ib.add_source_target_pairs(pairs_fb);
  ib.add_custom_call_target(target);
  ib.add_custom_call_has_side_effect(in.custom_call_has_side_effect);
  ib.add_is_stable(in.is_stable);
  ib.add_exponent_bits(in.exponent_bits);
  ib.add_mantissa_bits(in.mantissa_bits);
  ib.add_rng_algorithm(rng);
  ib.add_operand_precision(precision);
  if (!sharding.IsNull()) ib.add_sharding(sharding);
  ib.add_metadata(metadata);
  ib.add_frontend_attributes(frontend);
  ib.add_backend_config(backend);
  ib.add_opaque_attributes(opaque);
  ib.add_location(location);
  ib.add_sharding_provenance(provenance);
  if (!origin.IsNull()) ib.add_spmd_origin(origin);
  return ib.Finish();
}

Status InstructionFromFlatBuffer(const fb::Instruction& f, Instruction& in, const Computation& comp,
                                 const std::vector<std::unique_ptr<Computation>>& computations,
                                 const BlobSource& blobs) {
  in.name = Str(f.name());
  if (in.name.empty()) return InvalidArgument("instruction without a name");
  std::optional<Opcode> op = OpcodeFromName(Str(f.opcode()));
  if (!op) return InvalidArgument(in.name, ": unknown opcode '", Str(f.opcode()), "'");
  in.opcode = *op;
  PJIT_ASSIGN_OR_RETURN(in.shape, ShapeFromFlatBuffer(f.shape()));
  if (f.operands())
    for (uint32_t i : *f.operands()) {
      if (i >= comp.instructions.size()) return InvalidArgument(in.name, ": operand ", i, " is not an earlier instruction");
      in.operands.push_back(comp.instructions[i].get());
    }
  if (f.called())
    for (uint32_t i : *f.called()) {
      if (i >= computations.size()) return InvalidArgument(in.name, ": called computation ", i, " is not an earlier computation");
      in.called.push_back(computations[i].get());
    }
  if (in.opcode == Opcode::kConstant) {
    PJIT_ASSIGN_OR_RETURN(in.literal, LiteralFromFlatBuffer(f.literal(), blobs));
  }
  in.parameter_number = f.parameter_number();
  in.tuple_index = f.tuple_index();
  in.dimensions = ReadLongs(f.dimensions());
  for (const fb::SliceDim& s : ReadStructs(f.slice())) in.slice.push_back({s.start(), s.limit(), s.stride()});
  in.slice_sizes = ReadLongs(f.slice_sizes());
  for (const fb::PaddingDim& p : ReadStructs(f.padding())) in.padding.push_back({p.low(), p.high(), p.interior()});
  if (const fb::DotDims* d = f.dot_dims())
    in.dot_dims = {ReadLongs(d->lhs_batch()), ReadLongs(d->rhs_batch()), ReadLongs(d->lhs_contracting()), ReadLongs(d->rhs_contracting())};
  for (const fb::WindowDim& w : ReadStructs(f.window()))
    in.window.push_back({w.size(), w.stride(), w.padding_low(), w.padding_high(), w.window_dilation(), w.base_dilation(), w.window_reversal()});
  if (const fb::ConvDims* c = f.conv_dims())
    in.conv_dims = {c->input_batch(), c->input_feature(), ReadLongs(c->input_spatial()), c->kernel_input_feature(),
                    c->kernel_output_feature(), ReadLongs(c->kernel_spatial()), c->output_batch(), c->output_feature(),
                    ReadLongs(c->output_spatial())};
  in.feature_group_count = f.feature_group_count();
  in.batch_group_count = f.batch_group_count();
  if (const fb::GatherDims* g = f.gather_dims())
    in.gather_dims = {ReadLongs(g->offset_dims()), ReadLongs(g->collapsed_slice_dims()), ReadLongs(g->start_index_map()),
                      ReadLongs(g->operand_batching_dims()), ReadLongs(g->start_indices_batching_dims()), g->index_vector_dim()};
  if (const fb::ScatterDims* s = f.scatter_dims())
    in.scatter_dims = {ReadLongs(s->update_window_dims()), ReadLongs(s->inserted_window_dims()), ReadLongs(s->scatter_dims_to_operand_dims()),
                       ReadLongs(s->input_batching_dims()), ReadLongs(s->scatter_indices_batching_dims()), s->index_vector_dim()};
  in.indices_are_sorted = f.indices_are_sorted();
  in.unique_indices = f.unique_indices();
  if (f.comparison_direction() > static_cast<uint8_t>(ComparisonDirection::kGe)) return InvalidArgument(in.name, ": invalid comparison direction");
  in.comparison_direction = static_cast<ComparisonDirection>(f.comparison_direction());
  if (f.comparison_type() > static_cast<uint8_t>(ComparisonType::kUnsigned) + 1) return InvalidArgument(in.name, ": invalid comparison type");
  if (f.comparison_type()) in.comparison_type = static_cast<ComparisonType>(f.comparison_type() - 1);
  if (f.replica_groups())
    for (const fb::ReplicaGroup* g : *f.replica_groups()) in.replica_groups.groups.push_back(ReadLongs(g->ids()));
  if (const fb::IotaTiles* t = f.replica_groups_iota())
    in.replica_groups.iota = IotaTileAssignment{ReadLongs(t->dims()), ReadLongs(t->reshape_dims()), ReadLongs(t->transpose_perm())};
  if (f.has_channel_id()) in.channel_id = f.channel_id();
  in.use_global_device_ids = f.use_global_device_ids();
  in.constrain_layout = f.constrain_layout();
  for (const fb::SourceTarget& p : ReadStructs(f.source_target_pairs())) in.source_target_pairs.emplace_back(p.source(), p.target());
  in.custom_call_target = Str(f.custom_call_target());
  in.custom_call_has_side_effect = f.custom_call_has_side_effect();
  in.is_stable = f.is_stable();
  in.exponent_bits = f.exponent_bits();
  in.mantissa_bits = f.mantissa_bits();
  in.rng_algorithm = Str(f.rng_algorithm());
  if (f.operand_precision())
    for (const flatbuffers::String* p : *f.operand_precision()) in.operand_precision.push_back(p->str());
  if (f.sharding()) {
    StatusOr<HloSharding> sharding = ParseHloSharding(f.sharding()->string_view());
    if (!sharding.ok()) return InvalidArgument(in.name, ": ", sharding.status().message());
    in.sharding = std::move(*sharding);
  }
  if (const fb::Metadata* m = f.metadata())
    in.metadata = {Str(m->op_type()), Str(m->op_name()), Str(m->source_file()), m->source_line(), FromKeyValues(m->other())};
  in.frontend_attributes = Str(f.frontend_attributes());
  in.backend_config = Str(f.backend_config());
  in.opaque_attributes = FromKeyValues(f.opaque_attributes());
  in.location = Str(f.location());
  if (const fb::ShardingProvenance* p = f.sharding_provenance()) {
    if (p->origin() > fb::ShardingOrigin::MAX) return InvalidArgument(in.name, ": invalid sharding origin");
    in.sharding_provenance = {static_cast<ShardingProvenance::Origin>(p->origin()), Str(p->from()), p->operand(), Str(p->rule()),
                              p->level(), p->pass()};
  }
  if (const fb::SpmdOrigin* o = f.spmd_origin())
    in.spmd_origin = {Str(o->instruction()), Str(o->resharded()), Str(o->from_sharding()), Str(o->to_sharding()), o->fallback()};
  return OkStatus();
}

}  // namespace

std::vector<int64_t> ReadLongs(const flatbuffers::Vector<int64_t>* v) {
  std::vector<int64_t> out(v ? v->size() : 0);
  if (!out.empty()) std::memcpy(out.data(), v->Data(), out.size() * sizeof(int64_t));
  return out;
}

Offset<fb::Shape> ShapeToFlatBuffer(FlatBufferBuilder& b, const Shape& shape) {
  std::vector<Offset<fb::Shape>> elements;
  for (const Shape& e : shape.tuple_shapes) elements.push_back(ShapeToFlatBuffer(b, e));
  auto tuple = b.CreateVector(elements);
  auto dims = Longs(b, shape.dims);
  Offset<flatbuffers::Vector<int64_t>> minor_to_major;
  Offset<flatbuffers::String> details;
  if (shape.layout) {
    minor_to_major = Longs(b, shape.layout->minor_to_major);
    details = b.CreateString(shape.layout->details);
  }
  return fb::CreateShape(b, static_cast<fb::DType>(shape.dtype), dims, shape.layout.has_value(), minor_to_major, details, tuple);
}

StatusOr<Shape> ShapeFromFlatBuffer(const fb::Shape* shape) { return ShapeFromFlatBufferAtDepth(shape, 0); }

Offset<fb::Module> ModuleToFlatBuffer(FlatBufferBuilder& b, const Module& module, const BlobSink& blobs) {
  std::unordered_map<const Computation*, uint32_t> comp_index;
  std::vector<Offset<fb::Computation>> computations;
  for (const auto& comp : module.computations) {
    std::unordered_map<const Instruction*, uint32_t> index;
    std::vector<Offset<fb::Instruction>> instructions;
    for (const auto& in : comp->instructions) {
      instructions.push_back(InstructionToFlatBuffer(b, *in, index, comp_index, blobs));
      index[in.get()] = static_cast<uint32_t>(index.size());
    }
    computations.push_back(fb::CreateComputation(b, b.CreateString(comp->name), b.CreateVector(instructions), index.at(comp->root)));
    comp_index[comp.get()] = static_cast<uint32_t>(comp_index.size());
  }
  auto name = b.CreateString(module.name);
  auto comps = b.CreateVector(computations);
  auto attributes = KeyValues(b, module.attributes);
  auto tables = b.CreateString(module.stack_frame_tables);
  return fb::CreateModule(b, name, comps, comp_index.at(module.entry), module.num_partitions.value_or(-1),
                          module.replica_count.value_or(-1), attributes, tables);
}

StatusOr<std::unique_ptr<Module>> ModuleFromFlatBuffer(const fb::Module* f, const BlobSource& blobs) {
  if (!f) return InvalidArgument("missing module");
  auto module = std::make_unique<Module>();
  module->name = Str(f->name());
  if (!f->computations() || f->computations()->size() == 0) return InvalidArgument("module without computations");
  for (const fb::Computation* fc : *f->computations()) {
    auto comp = std::make_unique<Computation>();
    comp->name = Str(fc->name());
    if (!fc->instructions() || fc->instructions()->size() == 0) return InvalidArgument("computation '", comp->name, "' has no instructions");
    for (const fb::Instruction* fi : *fc->instructions()) {
      auto in = std::make_unique<Instruction>();
      Status s = InstructionFromFlatBuffer(*fi, *in, *comp, module->computations, blobs);
      if (!s.ok()) return InvalidArgument("computation '", comp->name, "': ", s.message());
      comp->instructions.push_back(std::move(in));
    }
    if (fc->root() >= comp->instructions.size()) return InvalidArgument("computation '", comp->name, "': root index out of range");
    comp->root = comp->instructions[fc->root()].get();
    for (const auto& in : comp->instructions) {
      if (in->opcode != Opcode::kParameter) continue;
      if (in->parameter_number < 0 || in->parameter_number >= static_cast<int64_t>(comp->instructions.size()))
        return InvalidArgument("computation '", comp->name, "': parameter number out of range");
      size_t n = static_cast<size_t>(in->parameter_number);
      if (n >= comp->parameters.size()) comp->parameters.resize(n + 1, nullptr);
      if (comp->parameters[n]) return InvalidArgument("computation '", comp->name, "': parameter ", n, " appears twice");
      comp->parameters[n] = in.get();
    }
    for (const Instruction* p : comp->parameters)
      if (!p) return InvalidArgument("computation '", comp->name, "': parameter numbers have a gap");
    module->computations.push_back(std::move(comp));
  }
  if (f->entry() >= module->computations.size()) return InvalidArgument("entry computation index out of range");
  module->entry = module->computations[f->entry()].get();
  if (f->num_partitions() >= 0) module->num_partitions = f->num_partitions();
  if (f->replica_count() >= 0) module->replica_count = f->replica_count();
  module->attributes = FromKeyValues(f->attributes());
  module->stack_frame_tables = Str(f->stack_frame_tables());
  return module;
}

}  // namespace pjit
