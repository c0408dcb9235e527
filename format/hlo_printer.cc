#include "format/hlo_printer.h"

#include <cstdio>

namespace pjit {
namespace {

std::string IntList(const std::vector<int64_t>& v, const char* sep = ",") {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + std::to_string(v[i]);
  return out;
}
std::string Braced(const std::vector<int64_t>& v) { return "{" + IntList(v) + "}"; }

std::string WindowToString(const std::vector<WindowDimension>& w) {
  if (w.empty()) return "{}";
  auto field = [&](auto get) {
    std::string out;
    for (size_t i = 0; i < w.size(); ++i) out += (i ? "x" : "") + get(w[i]);
    return out;
  };
  auto any = [&](auto pred) {
    for (const auto& d : w) if (pred(d)) return true;
    return false;
  };
  std::vector<std::string> parts;
  parts.push_back("size=" + field([](const WindowDimension& d) { return std::to_string(d.size); }));
  if (any([](const WindowDimension& d) { return d.stride != 1; }))
    parts.push_back("stride=" + field([](const WindowDimension& d) { return std::to_string(d.stride); }));
  if (any([](const WindowDimension& d) { return d.padding_low != 0 || d.padding_high != 0; }))
    parts.push_back("pad=" + field([](const WindowDimension& d) { return std::to_string(d.padding_low) + "_" + std::to_string(d.padding_high); }));
  if (any([](const WindowDimension& d) { return d.base_dilation != 1; }))
    parts.push_back("lhs_dilate=" + field([](const WindowDimension& d) { return std::to_string(d.base_dilation); }));
  if (any([](const WindowDimension& d) { return d.window_dilation != 1; }))
    parts.push_back("rhs_dilate=" + field([](const WindowDimension& d) { return std::to_string(d.window_dilation); }));
  if (any([](const WindowDimension& d) { return d.window_reversal; }))
    parts.push_back("rhs_reversal=" + field([](const WindowDimension& d) { return std::string(d.window_reversal ? "1" : "0"); }));
  std::string out = "{";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " " : "") + parts[i];
  return out + "}";
}

std::string DimLabels(const ConvolutionDimensionNumbers& d) {
  auto labels = [](int64_t first, char a, int64_t second, char b, const std::vector<int64_t>& spatial) {
    std::string s(spatial.size() + 2, '?');
    s[first] = a;
    s[second] = b;
    for (size_t i = 0; i < spatial.size(); ++i) s[spatial[i]] = static_cast<char>('0' + i);
    return s;
  };
  return labels(d.input_batch, 'b', d.input_feature, 'f', d.input_spatial) + "_" +
         labels(d.kernel_input_feature, 'i', d.kernel_output_feature, 'o', d.kernel_spatial) + "->" +
         labels(d.output_batch, 'b', d.output_feature, 'f', d.output_spatial);
}

const char* DirectionName(ComparisonDirection d) {
  switch (d) {
    case ComparisonDirection::kEq: return "EQ";
    case ComparisonDirection::kNe: return "NE";
    case ComparisonDirection::kLt: return "LT";
    case ComparisonDirection::kLe: return "LE";
    case ComparisonDirection::kGt: return "GT";
    case ComparisonDirection::kGe: return "GE";
  }
  return "EQ";
}

const char* ComparisonTypeName(ComparisonType t) {
  switch (t) {
    case ComparisonType::kFloat: return "FLOAT";
    case ComparisonType::kTotalOrder: return "TOTALORDER";
    case ComparisonType::kSigned: return "SIGNED";
    case ComparisonType::kUnsigned: return "UNSIGNED";
    case ComparisonType::kDefault: break;
  }
  return "FLOAT";
}

std::string ReplicaGroupsToString(const ReplicaGroups& g) {
  if (g.iota) return g.iota->ToString();
  std::string out = "{";
  for (size_t i = 0; i < g.groups.size(); ++i) out += (i ? "," : "") + Braced(g.groups[i]);
  return out + "}";
}

std::string MetadataToString(const OpMetadata& m) {
  std::vector<std::string> parts;
  if (!m.op_type.empty()) parts.push_back("op_type=\"" + EscapeString(m.op_type) + "\"");
  if (!m.op_name.empty()) parts.push_back("op_name=\"" + EscapeString(m.op_name) + "\"");
  if (!m.source_file.empty()) parts.push_back("source_file=\"" + EscapeString(m.source_file) + "\"");
  if (m.source_line != 0) parts.push_back("source_line=" + std::to_string(m.source_line));
  for (const auto& [k, v] : m.other) parts.push_back(k + "=" + v);
  std::string out = "{";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? " " : "") + parts[i];
  return out + "}";
}

// The attributes of an instruction in canonical order, as "key=value".
std::vector<std::string> Attributes(const Instruction& in) {
  using O = Opcode;
  std::vector<std::string> a;
  auto add = [&](const std::string& k, const std::string& v) { a.push_back(k + "=" + v); };
  auto add_if = [&](const std::string& k, const std::vector<int64_t>& v) { if (!v.empty()) add(k, Braced(v)); };
  auto called = [&](size_t i) { return in.called.size() > i && in.called[i] ? in.called[i]->name : std::string("?"); };
  switch (in.opcode) {
    case O::kBroadcast: case O::kTranspose: case O::kReduce: case O::kReverse: case O::kConcatenate:
    case O::kMap:
      add("dimensions", Braced(in.dimensions));
      break;
    case O::kSort: case O::kAllGather: case O::kReduceScatter: case O::kAllToAll:
      add_if("dimensions", in.dimensions);
      break;
    case O::kIota: add("iota_dimension", std::to_string(in.dimensions.empty() ? 0 : in.dimensions[0])); break;
    case O::kGetTupleElement: add("index", std::to_string(in.tuple_index)); break;
    case O::kSlice: {
      std::string s = "{";
      for (size_t i = 0; i < in.slice.size(); ++i) {
        const SliceDim& d = in.slice[i];
        s += (i ? ", [" : "[") + std::to_string(d.start) + ":" + std::to_string(d.limit);
        if (d.stride != 1) s += ":" + std::to_string(d.stride);
        s += "]";
      }
      add("slice", s + "}");
      break;
    }
    case O::kDynamicSlice: add("dynamic_slice_sizes", Braced(in.slice_sizes)); break;
    case O::kPad: {
      std::string s;
      for (size_t i = 0; i < in.padding.size(); ++i) {
        const PaddingDim& p = in.padding[i];
        s += (i ? "x" : "") + std::to_string(p.low) + "_" + std::to_string(p.high);
        if (p.interior != 0) s += "_" + std::to_string(p.interior);
      }
      add("padding", s);
      break;
    }
    case O::kDot:
      add_if("lhs_batch_dims", in.dot_dims.lhs_batch);
      add_if("lhs_contracting_dims", in.dot_dims.lhs_contracting);
      add_if("rhs_batch_dims", in.dot_dims.rhs_batch);
      add_if("rhs_contracting_dims", in.dot_dims.rhs_contracting);
      break;
    case O::kConvolution:
      if (!in.window.empty()) add("window", WindowToString(in.window));
      add("dim_labels", DimLabels(in.conv_dims));
      if (in.feature_group_count != 1) add("feature_group_count", std::to_string(in.feature_group_count));
      if (in.batch_group_count != 1) add("batch_group_count", std::to_string(in.batch_group_count));
      break;
    case O::kReduceWindow: case O::kSelectAndScatter:
      add("window", WindowToString(in.window));
      break;
    case O::kGather: {
      const GatherDimensionNumbers& g = in.gather_dims;
      add("offset_dims", Braced(g.offset_dims));
      add("collapsed_slice_dims", Braced(g.collapsed_slice_dims));
      add("start_index_map", Braced(g.start_index_map));
      add_if("operand_batching_dims", g.operand_batching_dims);
      add_if("start_indices_batching_dims", g.start_indices_batching_dims);
      add("index_vector_dim", std::to_string(g.index_vector_dim));
      add("slice_sizes", Braced(in.slice_sizes));
      if (in.indices_are_sorted) add("indices_are_sorted", "true");
      break;
    }
    case O::kScatter: {
      const ScatterDimensionNumbers& s = in.scatter_dims;
      add("update_window_dims", Braced(s.update_window_dims));
      add("inserted_window_dims", Braced(s.inserted_window_dims));
      add("scatter_dims_to_operand_dims", Braced(s.scatter_dims_to_operand_dims));
      add_if("input_batching_dims", s.input_batching_dims);
      add_if("scatter_indices_batching_dims", s.scatter_indices_batching_dims);
      add("index_vector_dim", std::to_string(s.index_vector_dim));
      if (in.indices_are_sorted) add("indices_are_sorted", "true");
      if (in.unique_indices) add("unique_indices", "true");
      break;
    }
    case O::kCompare:
      add("direction", DirectionName(in.comparison_direction));
      if (in.comparison_type) add("type", ComparisonTypeName(*in.comparison_type));
      break;
    case O::kCustomCall:
      add("custom_call_target", "\"" + EscapeString(in.custom_call_target) + "\"");
      if (in.custom_call_has_side_effect) add("custom_call_has_side_effect", "true");
      break;
    case O::kReducePrecision:
      add("exponent_bits", std::to_string(in.exponent_bits));
      add("mantissa_bits", std::to_string(in.mantissa_bits));
      break;
    case O::kRngBitGenerator: add("algorithm", in.rng_algorithm.empty() ? "rng_default" : in.rng_algorithm); break;
    default: break;
  }
  if (IsCollective(in.opcode)) {
    if (in.channel_id) add("channel_id", std::to_string(*in.channel_id));
    if (in.opcode == O::kCollectivePermute) {
      std::string s = "{";
      for (size_t i = 0; i < in.source_target_pairs.size(); ++i)
        s += (i ? "," : "") + std::string("{") + std::to_string(in.source_target_pairs[i].first) + "," +
             std::to_string(in.source_target_pairs[i].second) + "}";
      add("source_target_pairs", s + "}");
    } else {
      add("replica_groups", ReplicaGroupsToString(in.replica_groups));
    }
    if (in.constrain_layout) add("constrain_layout", "true");
    if (in.use_global_device_ids) add("use_global_device_ids", "true");
  }
  if (in.opcode == O::kSort && in.is_stable) add("is_stable", "true");
  if (!in.operand_precision.empty()) {
    std::string s = "{";
    for (size_t i = 0; i < in.operand_precision.size(); ++i) s += (i ? "," : "") + in.operand_precision[i];
    add("operand_precision", s + "}");
  }
  switch (in.opcode) {
    case O::kWhile:
      add("condition", called(0));
      add("body", called(1));
      break;
    case O::kConditional:
      if (!in.operands.empty() && in.operands[0]->shape.dtype == DType::kPred && in.called.size() == 2) {
        add("true_computation", called(0));
        add("false_computation", called(1));
      } else {
        std::string s = "{";
        for (size_t i = 0; i < in.called.size(); ++i) s += (i ? ", " : "") + called(i);
        add("branch_computations", s + "}");
      }
      break;
    case O::kSelectAndScatter:
      add("select", called(0));
      add("scatter", called(1));
      break;
    case O::kCustomCall:
      if (!in.called.empty()) {
        std::string s = "{";
        for (size_t i = 0; i < in.called.size(); ++i) s += (i ? ", " : "") + called(i);
        add("called_computations", s + "}");
      }
      break;
    default:
      if (!in.called.empty()) add("to_apply", called(0));
  }
  if (in.sharding) add("sharding", in.sharding->ToString());
  if (!in.metadata.empty()) add("metadata", MetadataToString(in.metadata));
  if (!in.frontend_attributes.empty()) add("frontend_attributes", in.frontend_attributes);
  if (!in.backend_config.empty()) add("backend_config", in.backend_config);
  for (const auto& [k, v] : in.opaque_attributes) add(k, v);
  return a;
}

}  // namespace

std::string EscapeString(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string PrintInstruction(const Instruction& in) {
  std::string out = in.name + " = " + in.shape.ToString() + " " + std::string(OpcodeName(in.opcode)) + "(";
  if (in.opcode == Opcode::kConstant) {
    out += in.literal.ToString();
  } else if (in.opcode == Opcode::kParameter) {
    out += std::to_string(in.parameter_number);
  } else {
    for (size_t i = 0; i < in.operands.size(); ++i) out += (i ? ", " : "") + in.operands[i]->name;
  }
  out += ")";
  for (const std::string& attr : Attributes(in)) out += ", " + attr;
  return out;
}

std::string PrintComputation(const Computation& c, bool is_entry) {
  std::string out = (is_entry ? "ENTRY " : "") + c.name + " {\n";
  for (const auto& instr : c.instructions)
    out += std::string(instr.get() == c.root ? "  ROOT " : "  ") + PrintInstruction(*instr) + "\n";
  return out + "}\n";
}

std::string PrintModule(const Module& m) {
  std::string out = "HloModule " + m.name;
  for (const auto& [k, v] : m.attributes) out += ", " + k + "=" + v;
  if (m.replica_count) out += ", replica_count=" + std::to_string(*m.replica_count);
  if (m.num_partitions) out += ", num_partitions=" + std::to_string(*m.num_partitions);
  out += "\n\n";
  if (!m.stack_frame_tables.empty()) out += m.stack_frame_tables + "\n\n";
  for (const auto& c : m.computations) out += PrintComputation(*c, c.get() == m.entry) + "\n";
  return out;
}

}  // namespace pjit
