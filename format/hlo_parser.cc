#include "format/hlo_parser.h"

#include "format/mesh.h"
#include "format/shape_inference.h"
#include "format/text_scan.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

namespace pjit {
namespace {

// Limits that keep hostile text from overflowing sizes or the stack.
constexpr int kMaxTupleDepth = 32;

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '$';
}

// Element types XLA has and pjit does not: named in the error instead of "unknown".
bool IsUnsupportedXlaType(std::string_view name) {
  static const std::set<std::string_view> kTypes = {
      "c64", "c128", "s1", "s2", "s4", "u1", "u2", "u4", "f4e2m1fn", "f8e3m4", "f8e4m3",
      "f8e4m3fn", "f8e4m3b11fnuz", "f8e4m3fnuz", "f8e5m2", "f8e5m2fnuz", "f8e8m0fnu",
      "opaque", "buffer"};
  return kTypes.count(name) > 0;
}

const std::set<std::string_view>& ModuleAttributeNames() {
  static const std::set<std::string_view> kNames = {
      "entry_computation_layout", "is_scheduled", "input_output_alias", "buffer_donor",
      "alias_passthrough_params", "allow_spmd_sharding_propagation_to_parameters",
      "allow_spmd_sharding_propagation_to_output", "frontend_attributes",
      "use_auto_spmd_partitioning", "exec_time_optimization_effort", "memory_fitting_effort",
      "optimization_level", "memory_fitting_level", "launch_bounds"};
  return kNames;
}

// Attributes with no effect on what an instruction computes; carried verbatim.
const std::set<std::string_view>& OpaqueAttributeNames() {
  static const std::set<std::string_view> kNames = {
      "api_version", "output_to_operand_aliasing", "operand_layout_constraints",
      "custom_call_schedule", "result_accuracy", "statistics", "origin",
      "control-predecessors", "schedule"};
  return kNames;
}

// Opcodes whose result shape follows from operands and attributes alone.
bool CanInferShape(Opcode op) {
  switch (op) {
    case Opcode::kParameter: case Opcode::kConstant: case Opcode::kIota: case Opcode::kBroadcast:
    case Opcode::kReshape: case Opcode::kBitcast: case Opcode::kConvert: case Opcode::kBitcastConvert:
    case Opcode::kCustomCall: case Opcode::kRngBitGenerator: case Opcode::kAllGather:
    case Opcode::kReduceScatter:
      return false;
    default:
      return true;
  }
}

struct PendingOperand {
  Instruction* user;
  std::string name;
  size_t pos;
  std::optional<Shape> declared;
};

struct PendingCall {
  Instruction* user;
  size_t slot;
  std::string name;
  size_t pos;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view filename) : text_(text), filename_(filename) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') line_starts_.push_back(i + 1);
  }

  StatusOr<std::unique_ptr<Module>> Run();

 private:
  // ---- positions and errors --------------------------------------------------------------
  std::string Location(size_t pos) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    return StrCat(filename_, ":", line, ":", pos - line_starts_[line - 1] + 1);
  }
  template <typename... Args>
  Status ErrorAt(size_t pos, const Args&... args) const {
    return InvalidArgument(Location(pos), ": ", args...);
  }
  // The token at pos, quoted, for "expected X but found Y".
  std::string Describe(size_t pos) const {
    if (pos >= text_.size()) return "end of input";
    size_t end = pos;
    while (end < text_.size() && IsIdentChar(text_[end]) && end - pos < 40) ++end;
    if (end == pos) end = pos + 1;
    return "'" + std::string(text_.substr(pos, end - pos)) + "'";
  }
  template <typename... Args>
  Status Expected(const Args&... what) {
    SkipWs();
    return ErrorAt(pos_, "expected ", what..., " but found ", Describe(pos_));
  }

  // ---- characters and tokens -------------------------------------------------------------
  void SkipWs() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        size_t end = text_.find("*/", pos_ + 2);
        pos_ = end == std::string_view::npos ? text_.size() : end + 2;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        size_t end = text_.find('\n', pos_);
        pos_ = end == std::string_view::npos ? text_.size() : end;
      } else {
        break;
      }
    }
  }
  bool AtEnd() { SkipWs(); return pos_ >= text_.size(); }
  char Peek() { SkipWs(); return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  bool ConsumeText(std::string_view s) {
    SkipWs();
    if (text_.substr(pos_).substr(0, s.size()) != s) return false;
    pos_ += s.size();
    return true;
  }
  Status Expect(char c) {
    if (Consume(c)) return OkStatus();
    return Expected("'", std::string(1, c), "'");
  }
  std::string_view PeekWord() {
    SkipWs();
    size_t end = pos_;
    while (end < text_.size() && IsIdentChar(text_[end])) ++end;
    return text_.substr(pos_, end - pos_);
  }
  bool ConsumeWord(std::string_view word) {
    if (PeekWord() != word) return false;
    pos_ += word.size();
    return true;
  }
  StatusOr<std::string> ParseName(const char* what) {
    SkipWs();
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '%') ++pos_;
    if (pos_ >= text_.size() || !(IsIdentStart(text_[pos_]) || std::isdigit(static_cast<unsigned char>(text_[pos_])))) {
      pos_ = start;
      return Expected(what);
    }
    size_t begin = pos_;
    while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(begin, pos_ - begin));
  }
  StatusOr<std::string> ParseAttributeKey() {
    SkipWs();
    size_t begin = pos_;
    while (pos_ < text_.size() && (IsIdentChar(text_[pos_]) && text_[pos_] != '.')) ++pos_;
    if (begin == pos_) return Expected("an attribute name");
    return std::string(text_.substr(begin, pos_ - begin));
  }

  template <typename T>
  StatusOr<T> ParseInteger(const char* what) {
    SkipWs();
    size_t start = pos_;
    const char* b = text_.data() + pos_;
    const char* e = text_.data() + text_.size();
    T v{};
    auto r = std::from_chars(b, e, v);
    if (r.ec == std::errc::result_out_of_range) return ErrorAt(start, what, " ", Describe(start), " is out of range");
    if (r.ec != std::errc()) return Expected(what);
    pos_ += static_cast<size_t>(r.ptr - b);
    return v;
  }
  StatusOr<uint64_t> ParseHex() {
    size_t start = pos_;
    const char* b = text_.data() + pos_;
    uint64_t v = 0;
    auto r = std::from_chars(b, text_.data() + text_.size(), v, 16);
    if (r.ec != std::errc()) return ErrorAt(start, "expected a hex number but found ", Describe(start));
    pos_ += static_cast<size_t>(r.ptr - b);
    return v;
  }
  StatusOr<int64_t> ParseInt(const char* what = "an integer") { return ParseInteger<int64_t>(what); }
  StatusOr<int64_t> ParseNonNegative(const char* what) {
    size_t start = (SkipWs(), pos_);
    PJIT_ASSIGN_OR_RETURN(int64_t v, ParseInt(what));
    if (v < 0) return ErrorAt(start, what, " must not be negative, got ", v);
    return v;
  }
  StatusOr<bool> ParseBool() {
    if (ConsumeWord("true")) return true;
    if (ConsumeWord("false")) return false;
    return Expected("'true' or 'false'");
  }
  StatusOr<std::vector<int64_t>> ParseIntList() {
    PJIT_RETURN_IF_ERROR(Expect('{'));
    std::vector<int64_t> out;
    if (Consume('}')) return out;
    do {
      PJIT_ASSIGN_OR_RETURN(int64_t v, ParseInt());
      out.push_back(v);
    } while (Consume(','));
    PJIT_RETURN_IF_ERROR(Expect('}'));
    return out;
  }
  StatusOr<std::vector<std::vector<int64_t>>> ParseIntListList() {
    PJIT_RETURN_IF_ERROR(Expect('{'));
    std::vector<std::vector<int64_t>> out;
    if (Consume('}')) return out;
    do {
      PJIT_ASSIGN_OR_RETURN(std::vector<int64_t> v, ParseIntList());
      out.push_back(std::move(v));
    } while (Consume(','));
    PJIT_RETURN_IF_ERROR(Expect('}'));
    return out;
  }
  // Integers separated by `sep` with no spaces: "3x3", "1_2_0".
  StatusOr<std::vector<int64_t>> ParseSeparated(char sep, const char* what) {
    std::vector<int64_t> out;
    while (true) {
      PJIT_ASSIGN_OR_RETURN(int64_t v, ParseInt(what));
      out.push_back(v);
      if (pos_ < text_.size() && text_[pos_] == sep) ++pos_;
      else return out;
    }
  }

  StatusOr<std::string> ParseString() {
    SkipWs();
    if (pos_ >= text_.size() || text_[pos_] != '"') return Expected("a string");
    size_t start = pos_++;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c != '\\') { out += c; continue; }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'x': {
          int v = 0, digits = 0;
          while (digits < 2 && pos_ < text_.size() && std::isxdigit(static_cast<unsigned char>(text_[pos_]))) {
            v = v * 16 + (std::isdigit(static_cast<unsigned char>(text_[pos_])) ? text_[pos_] - '0' : (std::tolower(text_[pos_]) - 'a' + 10));
            ++pos_, ++digits;
          }
          out += static_cast<char>(v);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            int v = e - '0', digits = 1;
            while (digits < 3 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7')
              v = v * 8 + (text_[pos_++] - '0'), ++digits;
            out += static_cast<char>(v);
          } else {
            out += e;
          }
      }
    }
    if (pos_ >= text_.size()) return ErrorAt(start, "unterminated string");
    ++pos_;
    return out;
  }
  // "{...}" with nested braces and strings, verbatim.
  StatusOr<std::string> ParseBraced() {
    SkipWs();
    if (pos_ >= text_.size() || text_[pos_] != '{') return Expected("'{'");
    size_t start = pos_;
    std::optional<size_t> end = EndOfBraced(text_, start);
    if (!end) return ErrorAt(start, "unbalanced '{'");
    pos_ = *end;
    return std::string(text_.substr(start, pos_ - start));
  }
  // A value pjit keeps verbatim: a string, a braced block, or one token.
  StatusOr<std::string> ParseRawValue() {
    char c = Peek();
    size_t start = pos_;
    if (c == '{') return ParseBraced();
    if (c == '"') {
      PJIT_RETURN_IF_ERROR(ParseString().status());
      return std::string(text_.substr(start, pos_ - start));
    }
    int depth = 0;
    while (pos_ < text_.size()) {
      char ch = text_[pos_];
      if (ch == '(' || ch == '[') ++depth;
      if ((ch == ')' || ch == ']') && depth > 0) --depth;
      else if (depth == 0 && (ch == ',' || ch == ')' || ch == '}' || std::isspace(static_cast<unsigned char>(ch)))) break;
      ++pos_;
    }
    if (pos_ == start) return Expected("a value");
    return std::string(text_.substr(start, pos_ - start));
  }

  // ---- shapes and literals ---------------------------------------------------------------
  StatusOr<Shape> ParseShape(int depth = 0);
  Status ParseLiteral(const Shape& shape, Literal& out);
  Status ParseNestedArray(Literal& l, size_t dim, int64_t& index);
  Status ParseScalar(Literal& l, int64_t index);

  // ---- instructions, computations, module ------------------------------------------------
  Status ParseInstruction(Computation& comp, std::vector<PendingOperand>& operands, bool& has_root);
  Status ParseOperands(Instruction& instr, std::vector<PendingOperand>& operands);
  Status ParseAttribute(Instruction& instr, const std::string& key, size_t key_pos);
  Status ParseCalledComputation(Instruction& instr, size_t slot);
  Status ParseWindow(Instruction& instr);
  Status ParseDimLabels(Instruction& instr);
  Status ParseReplicaGroups(Instruction& instr);
  Status ParseMetadata(Instruction& instr);
  Status ParseSignature();
  Status ParseComputation(Module& module, bool& saw_entry);
  Status FinishComputation(Computation& comp, std::vector<PendingOperand>& operands, size_t pos);
  Status ParseStackFrameTables(Module& module);
  Status ResolveCalls(Module& module);
  Status InferOmittedShapes(Module& module);

  std::string_view text_;
  std::string filename_;
  std::vector<size_t> line_starts_;
  size_t pos_ = 0;
  std::vector<PendingCall> calls_;
  std::unordered_map<std::string, Computation*> computations_by_name_;
  std::vector<Instruction*> inferred_;  // instructions written without a shape
};

StatusOr<Shape> Parser::ParseShape(int depth) {
  SkipWs();
  size_t start = pos_;
  if (Consume('(')) {
    if (depth >= kMaxTupleDepth) return ErrorAt(start, "tuple shapes nested deeper than ", kMaxTupleDepth);
    std::vector<Shape> elements;
    if (!Consume(')')) {
      do {
        PJIT_ASSIGN_OR_RETURN(Shape s, ParseShape(depth + 1));
        elements.push_back(std::move(s));
      } while (Consume(','));
      PJIT_RETURN_IF_ERROR(Expect(')'));
    }
    return Shape::Tuple(std::move(elements));
  }
  std::string_view word = PeekWord();
  std::optional<DType> dtype = DTypeFromName(word);
  if (!dtype) {
    if (IsUnsupportedXlaType(word)) return ErrorAt(start, "unsupported: element type '", word, "'");
    return Expected("a shape");
  }
  pos_ += word.size();
  if (pos_ >= text_.size() || text_[pos_] != '[') return Expected("'[' after element type");
  ++pos_;
  Shape shape = *dtype == DType::kToken ? Shape::Token() : Shape::Array(*dtype, {});
  int64_t elements = 1;
  if (!Consume(']')) {
    do {
      SkipWs();
      size_t dim_at = pos_;
      if (ConsumeText("<=") || Peek() == '?')
        return ErrorAt(dim_at, "unsupported: dynamic dimension in shape");
      PJIT_ASSIGN_OR_RETURN(int64_t d, ParseNonNegative("a dimension size"));
      if (d > 0 && elements > kMaxElementCount / d) return ErrorAt(dim_at, "shape has more than 2^50 elements");
      elements *= d;
      shape.dims.push_back(d);
    } while (Consume(','));
    PJIT_RETURN_IF_ERROR(Expect(']'));
  }
  if (shape.IsToken() && !shape.dims.empty()) return ErrorAt(start, "token shape takes no dimensions");
  // A layout starts with a digit, ':' or '}' — which tells it apart from a computation body.
  size_t save = pos_;
  if (Consume('{')) {
    char c = Peek();
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == ':' || c == '}')) {
      pos_ = save;
      return shape;
    }
    Layout layout;
    if (std::isdigit(static_cast<unsigned char>(c))) {
      do {
        PJIT_ASSIGN_OR_RETURN(int64_t d, ParseInt());
        layout.minor_to_major.push_back(d);
      } while (Consume(','));
    }
    if (Consume(':')) {
      size_t begin = pos_;
      int depth = 1;
      while (pos_ < text_.size()) {
        if (text_[pos_] == '{') ++depth;
        if (text_[pos_] == '}' && --depth == 0) break;
        ++pos_;
      }
      layout.details = std::string(text_.substr(begin, pos_ - begin));
    }
    PJIT_RETURN_IF_ERROR(Expect('}'));
    if (!layout.minor_to_major.empty()) {
      std::vector<int64_t> sorted = layout.minor_to_major;
      std::sort(sorted.begin(), sorted.end());
      bool permutation = sorted.size() == shape.dims.size();
      for (size_t i = 0; permutation && i < sorted.size(); ++i) permutation = sorted[i] == static_cast<int64_t>(i);
      if (!permutation)
        return ErrorAt(save, "layout is not a permutation of the ", shape.rank(), " dimensions of ", shape.ToString(false));
    }
    shape.layout = std::move(layout);
  }
  return shape;
}

Status Parser::ParseLiteral(const Shape& shape, Literal& out) {
  if (shape.IsTuple()) {
    PJIT_RETURN_IF_ERROR(Expect('('));
    std::vector<Literal> elements(shape.tuple_shapes.size());
    for (size_t i = 0; i < elements.size(); ++i) {
      if (i) PJIT_RETURN_IF_ERROR(Expect(','));
      PJIT_RETURN_IF_ERROR(ParseLiteral(shape.tuple_shapes[i], elements[i]));
    }
    PJIT_RETURN_IF_ERROR(Expect(')'));
    out = Literal::Tuple(std::move(elements));
    return OkStatus();
  }
  if (!shape.IsArray()) return ErrorAt(pos_, "unsupported: constant of type ", shape.ToString());
  if (ConsumeText("{...}"))
    return ErrorAt(pos_ - 5, "constant was elided by the printer ('{...}'); dump the module with large constants printed");
  // A scalar for an array shape fills it (XLA's splat), up to 2^28 elements.
  if (shape.rank() > 0 && Peek() != '{') {
    constexpr int64_t kMaxSplat = int64_t{1} << 28;
    if (shape.ElementCount() > kMaxSplat)
      return ErrorAt(pos_, "splat constant of shape ", shape.ToString(false), " has more than 2^28 elements");
    Literal scalar(Shape::Array(shape.dtype, {}));
    PJIT_RETURN_IF_ERROR(ParseScalar(scalar, 0));
    out = Literal(shape);
    size_t size = static_cast<size_t>(DTypeByteSize(shape.dtype));
    for (int64_t i = 0; i < out.element_count(); ++i) std::memcpy(out.bytes().data() + i * size, scalar.bytes().data(), size);
    return OkStatus();
  }
  // Every element is spelled out, so a constant cannot hold more elements than there are
  // characters left; checking first keeps hostile shapes from allocating.
  if (shape.ElementCount() > static_cast<int64_t>(text_.size() - pos_))
    return ErrorAt(pos_, "constant of shape ", shape.ToString(false), " has more elements than the text has characters left");
  out = Literal(shape);
  int64_t index = 0;
  return ParseNestedArray(out, 0, index);
}

Status Parser::ParseNestedArray(Literal& l, size_t dim, int64_t& index) {
  const std::vector<int64_t>& dims = l.shape().dims;
  if (dim == dims.size()) return ParseScalar(l, index++);
  PJIT_RETURN_IF_ERROR(Expect('{'));
  for (int64_t i = 0; i < dims[dim]; ++i) {
    if (i && !Consume(','))
      return Expected("',' (dimension ", dim, " of ", l.shape().ToString(false), " has ", dims[dim], " elements)");
    PJIT_RETURN_IF_ERROR(ParseNestedArray(l, dim + 1, index));
  }
  if (Peek() == ',')
    return ErrorAt(pos_, "constant has more than ", dims[dim], " elements in dimension ", dim, " of ", l.shape().ToString(false));
  return Expect('}');
}

Status Parser::ParseScalar(Literal& l, int64_t index) {
  SkipWs();
  size_t start = pos_;
  DType t = l.shape().dtype;
  if (t == DType::kPred) {
    if (ConsumeWord("true") || ConsumeText("1")) l.Set<bool>(index, true);
    else if (ConsumeWord("false") || ConsumeText("0")) l.Set<bool>(index, false);
    else return Expected("'true' or 'false'");
    return OkStatus();
  }
  const char* b = text_.data() + pos_;
  const char* e = text_.data() + text_.size();
  if (IsFloating(t)) {
    bool negative = pos_ < text_.size() && text_[pos_] == '-';
    if (text_.substr(pos_ + negative, 3) == "nan") {
      // Sign and payload are kept bit for bit: "-nan", "nan(0x7f)".
      pos_ += negative + 3;
      NanBits nb = NanBitsOf(t);
      uint64_t payload = uint64_t{1} << (nb.mantissa_bits - 1);
      if (pos_ < text_.size() && text_[pos_] == '(') {
        if (!ConsumeText("(0x")) return Expected("a hex NaN payload '(0x...)'");
        PJIT_ASSIGN_OR_RETURN(payload, ParseHex());
        PJIT_RETURN_IF_ERROR(Expect(')'));
        if (payload == 0 || payload >= (uint64_t{1} << nb.mantissa_bits))
          return ErrorAt(start, "NaN payload does not fit the ", nb.mantissa_bits, "-bit mantissa of ", DTypeName(t));
      }
      uint64_t bits = (negative ? nb.sign_bit : 0) | nb.exponent_mask | payload;
      std::memcpy(l.bytes().data() + index * DTypeByteSize(t), &bits, static_cast<size_t>(DTypeByteSize(t)));
      return OkStatus();
    }
    double v = 0;
    auto r = std::from_chars(b, e, v);
    if (r.ec == std::errc::result_out_of_range)
      return ErrorAt(start, "constant ", Describe(start), " is out of range for ", DTypeName(t));
    if (r.ec != std::errc()) return Expected("a number");
    pos_ += static_cast<size_t>(r.ptr - b);
    l.SetFromDouble(index, v);
    if (std::isfinite(v) && !std::isfinite(l.GetAsDouble(index)))
      return ErrorAt(start, "constant ", v, " is out of range for ", DTypeName(t));
    return OkStatus();
  }
  Status status = VisitDType(t, [&]<typename T>() -> Status {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      using Wide = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
      Wide v{};
      auto r = std::from_chars(b, e, v);
      if (r.ec == std::errc::result_out_of_range || (r.ec == std::errc() && (v < static_cast<Wide>(std::numeric_limits<T>::min()) || v > static_cast<Wide>(std::numeric_limits<T>::max())))) {
        pos_ += static_cast<size_t>(r.ptr - b);
        return ErrorAt(start, "constant ", text_.substr(start, static_cast<size_t>(r.ptr - b)), " is out of range for ", DTypeName(t));
      }
      if (r.ec != std::errc()) return Expected("an integer");
      pos_ += static_cast<size_t>(r.ptr - b);
      l.Set<T>(index, static_cast<T>(v));
      return OkStatus();
    }
    return Internal("unreachable");
  });
  PJIT_RETURN_IF_ERROR(status);
  if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e'))
    return ErrorAt(start, "constant of type ", DTypeName(t), " must be an integer");
  return OkStatus();
}

Status Parser::ParseCalledComputation(Instruction& instr, size_t slot) {
  SkipWs();
  size_t at = pos_;
  PJIT_ASSIGN_OR_RETURN(std::string name, ParseName("a computation name"));
  if (instr.called.size() <= slot) instr.called.resize(slot + 1, nullptr);
  calls_.push_back({&instr, slot, std::move(name), at});
  return OkStatus();
}

Status Parser::ParseWindow(Instruction& instr) {
  PJIT_RETURN_IF_ERROR(Expect('{'));
  std::vector<WindowDimension>& w = instr.window;
  std::optional<size_t> rank;
  auto set_rank = [&](size_t n, size_t at) -> Status {
    if (!rank) {
      rank = n;
      w.resize(n);
    } else if (*rank != n) {
      return ErrorAt(at, "window field has ", n, " dimensions, expected ", *rank);
    }
    return OkStatus();
  };
  while (!Consume('}')) {
    SkipWs();
    size_t at = pos_;
    PJIT_ASSIGN_OR_RETURN(std::string key, ParseAttributeKey());
    PJIT_RETURN_IF_ERROR(Expect('='));
    SkipWs();
    size_t value_at = pos_;
    if (key == "pad") {
      std::vector<std::pair<int64_t, int64_t>> pads;
      while (true) {
        PJIT_ASSIGN_OR_RETURN(int64_t lo, ParseInt("padding"));
        if (pos_ >= text_.size() || text_[pos_] != '_') return Expected("'_' in window padding");
        ++pos_;
        PJIT_ASSIGN_OR_RETURN(int64_t hi, ParseInt("padding"));
        pads.emplace_back(lo, hi);
        if (pos_ < text_.size() && text_[pos_] == 'x') ++pos_;
        else break;
      }
      PJIT_RETURN_IF_ERROR(set_rank(pads.size(), value_at));
      for (size_t i = 0; i < pads.size(); ++i) w[i].padding_low = pads[i].first, w[i].padding_high = pads[i].second;
      continue;
    }
    PJIT_ASSIGN_OR_RETURN(std::vector<int64_t> v, ParseSeparated('x', "a window value"));
    PJIT_RETURN_IF_ERROR(set_rank(v.size(), value_at));
    for (size_t i = 0; i < v.size(); ++i) {
      if (key == "size") w[i].size = v[i];
      else if (key == "stride") w[i].stride = v[i];
      else if (key == "lhs_dilate") w[i].base_dilation = v[i];
      else if (key == "rhs_dilate") w[i].window_dilation = v[i];
      else if (key == "rhs_reversal") w[i].window_reversal = v[i] != 0;
      else return ErrorAt(at, "unknown window field '", key, "'");
    }
  }
  return OkStatus();
}

Status Parser::ParseDimLabels(Instruction& instr) {
  SkipWs();
  size_t start = pos_;
  while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' || text_[pos_] == '-' || text_[pos_] == '>')) ++pos_;
  std::string labels(text_.substr(start, pos_ - start));
  size_t underscore = labels.find('_');
  size_t arrow = labels.find("->");
  if (underscore == std::string::npos || arrow == std::string::npos || underscore > arrow)
    return ErrorAt(start, "dim_labels must look like b01f_01io->b01f, got '", labels, "'");
  std::string in = labels.substr(0, underscore);
  std::string kernel = labels.substr(underscore + 1, arrow - underscore - 1);
  std::string out = labels.substr(arrow + 2);
  // Assigns the position of each label: `named` gets the letter dims, spatial the digits.
  auto assign = [&](const std::string& s, const char* letters, int64_t* first, int64_t* second,
                    std::vector<int64_t>& spatial) -> Status {
    if (s.size() < 2 || s.size() > 12)
      return ErrorAt(start, "invalid dim_labels '", labels, "': '", s, "' needs its two letter dims and at most 10 spatial dims");
    size_t num_spatial = s.size() - 2;
    spatial.assign(num_spatial, -1);
    bool seen_first = false, seen_second = false;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == letters[0] && !seen_first) *first = static_cast<int64_t>(i), seen_first = true;
      else if (c == letters[1] && !seen_second) *second = static_cast<int64_t>(i), seen_second = true;
      else if (std::isdigit(static_cast<unsigned char>(c)) && static_cast<size_t>(c - '0') < num_spatial && spatial[c - '0'] < 0) spatial[c - '0'] = static_cast<int64_t>(i);
      else return ErrorAt(start, "invalid dim_labels '", labels, "': unexpected '", c, "' in '", s, "'");
    }
    if (!seen_first || !seen_second) return ErrorAt(start, "invalid dim_labels '", labels, "': '", s, "' lacks '", letters[0], "' or '", letters[1], "'");
    return OkStatus();
  };
  ConvolutionDimensionNumbers& d = instr.conv_dims;
  PJIT_RETURN_IF_ERROR(assign(in, "bf", &d.input_batch, &d.input_feature, d.input_spatial));
  PJIT_RETURN_IF_ERROR(assign(kernel, "io", &d.kernel_input_feature, &d.kernel_output_feature, d.kernel_spatial));
  PJIT_RETURN_IF_ERROR(assign(out, "bf", &d.output_batch, &d.output_feature, d.output_spatial));
  if (d.input_spatial.size() != d.kernel_spatial.size() || d.input_spatial.size() != d.output_spatial.size())
    return ErrorAt(start, "invalid dim_labels '", labels, "': input, kernel and output have different spatial ranks");
  return OkStatus();
}

Status Parser::ParseReplicaGroups(Instruction& instr) {
  SkipWs();
  size_t start = pos_;
  if (Peek() == '{') {
    PJIT_ASSIGN_OR_RETURN(instr.replica_groups.groups, ParseIntListList());
    return OkStatus();
  }
  // Iota form: [num_groups,group_size]<=[reshape]T(perm)
  IotaTileAssignment iota;
  auto list = [&](std::vector<int64_t>& v) -> Status {
    PJIT_RETURN_IF_ERROR(Expect('['));
    do {
      PJIT_ASSIGN_OR_RETURN(int64_t x, ParseNonNegative("a dimension"));
      v.push_back(x);
    } while (Consume(','));
    return Expect(']');
  };
  PJIT_RETURN_IF_ERROR(list(iota.dims));
  if (!ConsumeText("<=")) return Expected("'<=' in iota replica groups");
  PJIT_RETURN_IF_ERROR(list(iota.reshape_dims));
  if (ConsumeText("T")) {
    PJIT_RETURN_IF_ERROR(Expect('('));
    do {
      PJIT_ASSIGN_OR_RETURN(int64_t x, ParseInt());
      iota.transpose_perm.push_back(x);
    } while (Consume(','));
    PJIT_RETURN_IF_ERROR(Expect(')'));
  }
  int64_t a = 1, b = 1;
  for (const std::vector<int64_t>* dims : {&iota.dims, &iota.reshape_dims}) {
    int64_t& n = dims == &iota.dims ? a : b;
    for (int64_t d : *dims) {
      if (d > kMaxMeshDevices || n * d > kMaxMeshDevices) return ErrorAt(start, "iota replica groups cover more than 2^20 devices");
      n *= d;
    }
  }
  if (iota.dims.size() != 2) return ErrorAt(start, "iota replica groups need 2 dimensions [groups,group_size]");
  if (a != b) return ErrorAt(start, "iota replica groups ", iota.ToString(), ": ", a, " devices do not match ", b);
  if (!iota.transpose_perm.empty()) {
    std::vector<int64_t> sorted = iota.transpose_perm;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
      if (sorted[i] != static_cast<int64_t>(i) || sorted.size() != iota.reshape_dims.size())
        return ErrorAt(start, "iota transpose T(...) is not a permutation of the reshape dims");
  }
  std::vector<int64_t> ids = iota.Expand();
  instr.replica_groups.groups.assign(static_cast<size_t>(iota.dims[0]), {});
  for (int64_t g = 0; g < iota.dims[0]; ++g)
    for (int64_t i = 0; i < iota.dims[1]; ++i)
      instr.replica_groups.groups[g].push_back(ids[g * iota.dims[1] + i]);
  instr.replica_groups.iota = std::move(iota);
  return OkStatus();
}

Status Parser::ParseMetadata(Instruction& instr) {
  PJIT_RETURN_IF_ERROR(Expect('{'));
  OpMetadata& m = instr.metadata;
  while (!Consume('}')) {
    if (AtEnd()) return Expected("'}' closing metadata");
    Consume(',');
    PJIT_ASSIGN_OR_RETURN(std::string key, ParseAttributeKey());
    PJIT_RETURN_IF_ERROR(Expect('='));
    if (key == "op_type") {
      PJIT_ASSIGN_OR_RETURN(m.op_type, ParseString());
    } else if (key == "op_name") {
      PJIT_ASSIGN_OR_RETURN(m.op_name, ParseString());
    } else if (key == "source_file") {
      PJIT_ASSIGN_OR_RETURN(m.source_file, ParseString());
    } else if (key == "source_line") {
      PJIT_ASSIGN_OR_RETURN(m.source_line, ParseInt());
    } else {
      PJIT_ASSIGN_OR_RETURN(std::string value, ParseRawValue());
      m.other.emplace_back(std::move(key), std::move(value));
    }
  }
  return OkStatus();
}

Status Parser::ParseAttribute(Instruction& instr, const std::string& key, size_t key_pos) {
  using O = Opcode;
  Opcode op = instr.opcode;
  auto only = [&](std::initializer_list<Opcode> ops) -> Status {
    for (Opcode o : ops)
      if (o == op) return OkStatus();
    return ErrorAt(key_pos, "attribute '", key, "' does not apply to ", OpcodeName(op));
  };
  auto ints = [&](std::vector<int64_t>& field, std::initializer_list<Opcode> ops) -> Status {
    PJIT_RETURN_IF_ERROR(only(ops));
    PJIT_ASSIGN_OR_RETURN(field, ParseIntList());
    return OkStatus();
  };
  auto flag = [&](bool& field, std::initializer_list<Opcode> ops) -> Status {
    PJIT_RETURN_IF_ERROR(only(ops));
    PJIT_ASSIGN_OR_RETURN(field, ParseBool());
    return OkStatus();
  };
  auto integer = [&](int64_t& field, std::initializer_list<Opcode> ops) -> Status {
    PJIT_RETURN_IF_ERROR(only(ops));
    PJIT_ASSIGN_OR_RETURN(field, ParseInt());
    return OkStatus();
  };
  const auto kCollectives = {O::kAllReduce, O::kAllGather, O::kReduceScatter, O::kAllToAll, O::kCollectivePermute};

  if (key == "dimensions")
    return ints(instr.dimensions, {O::kBroadcast, O::kTranspose, O::kReduce, O::kReverse, O::kConcatenate, O::kAllGather, O::kReduceScatter, O::kAllToAll, O::kSort, O::kMap});
  if (key == "iota_dimension") {
    PJIT_RETURN_IF_ERROR(only({O::kIota}));
    PJIT_ASSIGN_OR_RETURN(int64_t d, ParseInt());
    instr.dimensions = {d};
    return OkStatus();
  }
  if (key == "index") return integer(instr.tuple_index, {O::kGetTupleElement});
  if (key == "slice") {
    PJIT_RETURN_IF_ERROR(only({O::kSlice}));
    PJIT_RETURN_IF_ERROR(Expect('{'));
    if (!Consume('}')) {
      do {
        SliceDim d;
        PJIT_RETURN_IF_ERROR(Expect('['));
        PJIT_ASSIGN_OR_RETURN(d.start, ParseInt());
        PJIT_RETURN_IF_ERROR(Expect(':'));
        PJIT_ASSIGN_OR_RETURN(d.limit, ParseInt());
        if (Consume(':')) {
          PJIT_ASSIGN_OR_RETURN(d.stride, ParseInt());
        }
        PJIT_RETURN_IF_ERROR(Expect(']'));
        instr.slice.push_back(d);
      } while (Consume(','));
      PJIT_RETURN_IF_ERROR(Expect('}'));
    }
    return OkStatus();
  }
  if (key == "dynamic_slice_sizes") return ints(instr.slice_sizes, {O::kDynamicSlice});
  if (key == "slice_sizes") return ints(instr.slice_sizes, {O::kGather});
  if (key == "padding") {
    PJIT_RETURN_IF_ERROR(only({O::kPad}));
    SkipWs();
    if (Peek() == ',' || AtEnd() || Peek() == '\n') return OkStatus();
    while (true) {
      SkipWs();
      size_t at = pos_;
      PJIT_ASSIGN_OR_RETURN(std::vector<int64_t> v, ParseSeparated('_', "padding"));
      if (v.size() != 2 && v.size() != 3) return ErrorAt(at, "padding needs low_high or low_high_interior per dimension");
      instr.padding.push_back({v[0], v[1], v.size() == 3 ? v[2] : 0});
      if (pos_ < text_.size() && text_[pos_] == 'x') ++pos_;
      else return OkStatus();
    }
  }
  if (key == "lhs_batch_dims") return ints(instr.dot_dims.lhs_batch, {O::kDot});
  if (key == "rhs_batch_dims") return ints(instr.dot_dims.rhs_batch, {O::kDot});
  if (key == "lhs_contracting_dims") return ints(instr.dot_dims.lhs_contracting, {O::kDot});
  if (key == "rhs_contracting_dims") return ints(instr.dot_dims.rhs_contracting, {O::kDot});
  if (key == "operand_precision") {
    PJIT_RETURN_IF_ERROR(only({O::kDot, O::kConvolution}));
    PJIT_RETURN_IF_ERROR(Expect('{'));
    if (!Consume('}')) {
      do {
        PJIT_ASSIGN_OR_RETURN(std::string p, ParseAttributeKey());
        instr.operand_precision.push_back(std::move(p));
      } while (Consume(','));
      PJIT_RETURN_IF_ERROR(Expect('}'));
    }
    return OkStatus();
  }
  if (key == "window") {
    PJIT_RETURN_IF_ERROR(only({O::kConvolution, O::kReduceWindow, O::kSelectAndScatter}));
    return ParseWindow(instr);
  }
  if (key == "dim_labels") {
    PJIT_RETURN_IF_ERROR(only({O::kConvolution}));
    return ParseDimLabels(instr);
  }
  if (key == "feature_group_count") return integer(instr.feature_group_count, {O::kConvolution});
  if (key == "batch_group_count") return integer(instr.batch_group_count, {O::kConvolution});
  if (key == "offset_dims") return ints(instr.gather_dims.offset_dims, {O::kGather});
  if (key == "collapsed_slice_dims") return ints(instr.gather_dims.collapsed_slice_dims, {O::kGather});
  if (key == "start_index_map") return ints(instr.gather_dims.start_index_map, {O::kGather});
  if (key == "operand_batching_dims") return ints(instr.gather_dims.operand_batching_dims, {O::kGather});
  if (key == "start_indices_batching_dims") return ints(instr.gather_dims.start_indices_batching_dims, {O::kGather});
  if (key == "update_window_dims") return ints(instr.scatter_dims.update_window_dims, {O::kScatter});
  if (key == "inserted_window_dims") return ints(instr.scatter_dims.inserted_window_dims, {O::kScatter});
  if (key == "scatter_dims_to_operand_dims") return ints(instr.scatter_dims.scatter_dims_to_operand_dims, {O::kScatter});
  if (key == "input_batching_dims") return ints(instr.scatter_dims.input_batching_dims, {O::kScatter});
  if (key == "scatter_indices_batching_dims") return ints(instr.scatter_dims.scatter_indices_batching_dims, {O::kScatter});
  if (key == "index_vector_dim") {
    PJIT_RETURN_IF_ERROR(only({O::kGather, O::kScatter}));
    PJIT_ASSIGN_OR_RETURN(int64_t d, ParseInt());
    instr.gather_dims.index_vector_dim = instr.scatter_dims.index_vector_dim = d;
    return OkStatus();
  }
  if (key == "indices_are_sorted") return flag(instr.indices_are_sorted, {O::kGather, O::kScatter});
  if (key == "unique_indices") return flag(instr.unique_indices, {O::kScatter});
  if (key == "direction") {
    PJIT_RETURN_IF_ERROR(only({O::kCompare}));
    static const std::pair<std::string_view, ComparisonDirection> kDirs[] = {
        {"EQ", ComparisonDirection::kEq}, {"NE", ComparisonDirection::kNe}, {"LT", ComparisonDirection::kLt},
        {"LE", ComparisonDirection::kLe}, {"GT", ComparisonDirection::kGt}, {"GE", ComparisonDirection::kGe}};
    std::string_view w = PeekWord();
    for (const auto& [name, dir] : kDirs)
      if (w == name) {
        pos_ += w.size();
        instr.comparison_direction = dir;
        return OkStatus();
      }
    return Expected("a comparison direction (EQ, NE, LT, LE, GT, GE)");
  }
  if (key == "type") {
    PJIT_RETURN_IF_ERROR(only({O::kCompare}));
    static const std::pair<std::string_view, ComparisonType> kTypes[] = {
        {"FLOAT", ComparisonType::kFloat}, {"TOTALORDER", ComparisonType::kTotalOrder},
        {"SIGNED", ComparisonType::kSigned}, {"UNSIGNED", ComparisonType::kUnsigned}};
    std::string_view w = PeekWord();
    for (const auto& [name, type] : kTypes)
      if (w == name) {
        pos_ += w.size();
        instr.comparison_type = type;
        return OkStatus();
      }
    return Expected("a comparison type (FLOAT, TOTALORDER, SIGNED, UNSIGNED)");
  }
  if (key == "replica_groups") {
    PJIT_RETURN_IF_ERROR(only(kCollectives));
    return ParseReplicaGroups(instr);
  }
  if (key == "channel_id") {
    PJIT_RETURN_IF_ERROR(only(kCollectives));
    PJIT_ASSIGN_OR_RETURN(instr.channel_id, ParseInt());
    return OkStatus();
  }
  if (key == "use_global_device_ids") return flag(instr.use_global_device_ids, {O::kAllReduce, O::kAllGather, O::kReduceScatter});
  if (key == "constrain_layout") return flag(instr.constrain_layout, kCollectives);
  if (key == "source_target_pairs") {
    PJIT_RETURN_IF_ERROR(only({O::kCollectivePermute}));
    SkipWs();
    size_t at = pos_;
    PJIT_ASSIGN_OR_RETURN(auto pairs, ParseIntListList());
    for (const auto& p : pairs) {
      if (p.size() != 2) return ErrorAt(at, "each source_target_pair needs 2 ids");
      instr.source_target_pairs.emplace_back(p[0], p[1]);
    }
    return OkStatus();
  }
  if (key == "custom_call_target") {
    PJIT_RETURN_IF_ERROR(only({O::kCustomCall}));
    PJIT_ASSIGN_OR_RETURN(instr.custom_call_target, ParseString());
    return OkStatus();
  }
  if (key == "custom_call_has_side_effect") return flag(instr.custom_call_has_side_effect, {O::kCustomCall});
  if (key == "is_stable") return flag(instr.is_stable, {O::kSort});
  if (key == "exponent_bits") return integer(instr.exponent_bits, {O::kReducePrecision});
  if (key == "mantissa_bits") return integer(instr.mantissa_bits, {O::kReducePrecision});
  if (key == "algorithm") {
    PJIT_RETURN_IF_ERROR(only({O::kRngBitGenerator}));
    std::string_view w = PeekWord();
    if (w != "rng_default" && w != "rng_three_fry" && w != "rng_philox")
      return Expected("an rng algorithm (rng_default, rng_three_fry, rng_philox)");
    instr.rng_algorithm = std::string(w);
    pos_ += w.size();
    return OkStatus();
  }
  if (key == "to_apply") {
    PJIT_RETURN_IF_ERROR(only({O::kCall, O::kMap, O::kReduce, O::kReduceWindow, O::kScatter, O::kSort, O::kAllReduce, O::kReduceScatter, O::kCustomCall}));
    return ParseCalledComputation(instr, 0);
  }
  if (key == "condition") return only({O::kWhile}).ok() ? ParseCalledComputation(instr, 0) : only({O::kWhile});
  if (key == "body") return only({O::kWhile}).ok() ? ParseCalledComputation(instr, 1) : only({O::kWhile});
  if (key == "select") return only({O::kSelectAndScatter}).ok() ? ParseCalledComputation(instr, 0) : only({O::kSelectAndScatter});
  if (key == "scatter") return only({O::kSelectAndScatter}).ok() ? ParseCalledComputation(instr, 1) : only({O::kSelectAndScatter});
  if (key == "true_computation") return only({O::kConditional}).ok() ? ParseCalledComputation(instr, 0) : only({O::kConditional});
  if (key == "false_computation") return only({O::kConditional}).ok() ? ParseCalledComputation(instr, 1) : only({O::kConditional});
  if (key == "branch_computations" || key == "called_computations") {
    PJIT_RETURN_IF_ERROR(only({key == "branch_computations" ? O::kConditional : O::kCustomCall}));
    PJIT_RETURN_IF_ERROR(Expect('{'));
    size_t slot = 0;
    if (!Consume('}')) {
      do PJIT_RETURN_IF_ERROR(ParseCalledComputation(instr, slot++));
      while (Consume(','));
      PJIT_RETURN_IF_ERROR(Expect('}'));
    }
    return OkStatus();
  }
  if (key == "sharding") {
    SkipWs();
    size_t at = pos_;
    PJIT_ASSIGN_OR_RETURN(std::string text, ParseBraced());
    size_t offset = 0;
    StatusOr<HloSharding> sharding = ParseHloSharding(text, &offset);
    if (!sharding.ok()) return ErrorAt(at + offset, sharding.status().message());
    instr.sharding = std::move(*sharding);
    return OkStatus();
  }
  if (key == "metadata") return ParseMetadata(instr);
  if (key == "frontend_attributes") {
    PJIT_ASSIGN_OR_RETURN(instr.frontend_attributes, ParseBraced());
    return OkStatus();
  }
  if (key == "backend_config") {
    PJIT_ASSIGN_OR_RETURN(instr.backend_config, ParseRawValue());
    return OkStatus();
  }
  if (OpaqueAttributeNames().count(key)) {
    PJIT_ASSIGN_OR_RETURN(std::string value, ParseRawValue());
    instr.opaque_attributes.emplace_back(key, std::move(value));
    return OkStatus();
  }
  return ErrorAt(key_pos, "unsupported: attribute '", key, "' on ", OpcodeName(op));
}

Status Parser::ParseOperands(Instruction& instr, std::vector<PendingOperand>& operands) {
  PJIT_RETURN_IF_ERROR(Expect('('));
  if (instr.opcode == Opcode::kConstant) {
    PJIT_RETURN_IF_ERROR(ParseLiteral(instr.shape, instr.literal));
    return Expect(')');
  }
  if (instr.opcode == Opcode::kParameter) {
    PJIT_ASSIGN_OR_RETURN(instr.parameter_number, ParseNonNegative("a parameter number"));
    return Expect(')');
  }
  if (Consume(')')) return OkStatus();
  do {
    SkipWs();
    std::optional<Shape> declared;
    std::string_view word = PeekWord();
    size_t after = pos_ + word.size();
    if (Peek() == '(' || ((DTypeFromName(word) || IsUnsupportedXlaType(word)) && after < text_.size() && text_[after] == '[')) {
      PJIT_ASSIGN_OR_RETURN(Shape s, ParseShape());
      declared = std::move(s);
    }
    SkipWs();
    size_t at = pos_;
    PJIT_ASSIGN_OR_RETURN(std::string name, ParseName("an operand name"));
    instr.operands.push_back(nullptr);
    operands.push_back({&instr, std::move(name), at, std::move(declared)});
  } while (Consume(','));
  return Expect(')');
}

Status Parser::ParseInstruction(Computation& comp, std::vector<PendingOperand>& operands, bool& has_root) {
  SkipWs();
  size_t start = pos_;
  bool is_root = ConsumeWord("ROOT");
  auto instr = std::make_unique<Instruction>();
  PJIT_ASSIGN_OR_RETURN(instr->name, ParseName("an instruction name"));
  instr->location = Location(start);
  PJIT_RETURN_IF_ERROR(Expect('='));
  // XLA lets the shape be left out when the opcode determines it: "x = add(a, b)".
  std::string_view first = PeekWord();
  bool shape_omitted = OpcodeFromName(first) && pos_ + first.size() < text_.size() && text_[pos_ + first.size()] == '(';
  if (shape_omitted) {
    inferred_.push_back(instr.get());
  } else {
    PJIT_ASSIGN_OR_RETURN(instr->shape, ParseShape());
  }
  SkipWs();
  size_t op_pos = pos_;
  std::string_view op_name = PeekWord();
  std::optional<Opcode> op = OpcodeFromName(op_name);
  if (!op) {
    if (op_name.empty()) return Expected("an opcode");
    return ErrorAt(op_pos, "unsupported: opcode '", op_name, "'");
  }
  pos_ += op_name.size();
  instr->opcode = *op;
  if (shape_omitted && !CanInferShape(*op))
    return ErrorAt(op_pos, "the shape of ", op_name, " cannot be inferred; write it before the opcode");
  PJIT_RETURN_IF_ERROR(ParseOperands(*instr, operands));
  std::set<std::string> seen;
  while (Consume(',')) {
    SkipWs();
    size_t key_pos = pos_;
    PJIT_ASSIGN_OR_RETURN(std::string key, ParseAttributeKey());
    if (!seen.insert(key).second) return ErrorAt(key_pos, "duplicate attribute '", key, "'");
    PJIT_RETURN_IF_ERROR(Expect('='));
    PJIT_RETURN_IF_ERROR(ParseAttribute(*instr, key, key_pos));
  }
  if (is_root) {
    if (has_root) return ErrorAt(start, "computation '", comp.name, "' has more than one ROOT");
    has_root = true;
    comp.root = instr.get();
  }
  comp.instructions.push_back(std::move(instr));
  return OkStatus();
}

Status Parser::ParseSignature() {
  PJIT_RETURN_IF_ERROR(Expect('('));
  if (!Consume(')')) {
    do {
      PJIT_RETURN_IF_ERROR(ParseName("a parameter name").status());
      PJIT_RETURN_IF_ERROR(Expect(':'));
      PJIT_RETURN_IF_ERROR(ParseShape().status());
    } while (Consume(','));
    PJIT_RETURN_IF_ERROR(Expect(')'));
  }
  if (!ConsumeText("->")) return Expected("'->' in computation signature");
  return ParseShape().status();
}

// Resolves operand names, orders instructions so operands come first, finds parameters/root.
Status Parser::FinishComputation(Computation& comp, std::vector<PendingOperand>& operands, size_t pos) {
  if (comp.instructions.empty()) return ErrorAt(pos, "computation '", comp.name, "' has no instructions");
  std::unordered_map<std::string_view, Instruction*> by_name;
  std::unordered_map<const Instruction*, size_t> index;
  for (size_t i = 0; i < comp.instructions.size(); ++i) {
    Instruction* instr = comp.instructions[i].get();
    if (!by_name.emplace(instr->name, instr).second)
      return InvalidArgument(instr->location, ": instruction name '", instr->name, "' is defined twice in '", comp.name, "'");
    index[instr] = i;
  }
  std::unordered_map<const Instruction*, size_t> next_slot;
  for (PendingOperand& p : operands) {
    auto it = by_name.find(p.name);
    if (it == by_name.end()) return ErrorAt(p.pos, "use of undefined instruction '", p.name, "'");
    bool shape_known = it->second->shape.dtype != DType::kInvalid;  // else inferred later
    if (p.declared && shape_known && !p.declared->Compatible(it->second->shape))
      return ErrorAt(p.pos, "operand '", p.name, "' is declared ", p.declared->ToString(false), " but is ", it->second->shape.ToString(false));
    p.user->operands[next_slot[p.user]++] = it->second;
  }
  // Depth-first post-order, iterative so that long chains cannot overflow the stack.
  std::vector<int> state(comp.instructions.size(), 0);  // 0 new, 1 on stack, 2 done
  std::vector<std::unique_ptr<Instruction>> ordered;
  for (size_t i = 0; i < comp.instructions.size(); ++i) {
    if (state[i]) continue;
    std::vector<std::pair<size_t, size_t>> stack = {{i, 0}};
    state[i] = 1;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      Instruction* instr = comp.instructions[node].get();
      if (next < instr->operands.size()) {
        size_t child = index[instr->operands[next++]];
        if (state[child] == 1)
          return InvalidArgument(instr->location, ": instruction '", instr->name, "' depends on itself");
        if (state[child] == 0) {
          state[child] = 1;
          stack.emplace_back(child, 0);
        }
        continue;
      }
      state[node] = 2;
      ordered.push_back(std::move(comp.instructions[node]));
      stack.pop_back();
    }
  }
  comp.instructions = std::move(ordered);
  if (!comp.root) comp.root = comp.instructions.back().get();
  // A map first, so that a huge parameter number costs nothing before it is reported.
  std::map<int64_t, Instruction*> by_number;
  for (const auto& instr : comp.instructions) {
    if (instr->opcode != Opcode::kParameter) continue;
    if (!by_number.emplace(instr->parameter_number, instr.get()).second)
      return InvalidArgument(instr->location, ": parameter number ", instr->parameter_number, " is used twice in '", comp.name, "'");
  }
  int64_t expected = 0;
  for (const auto& [number, instr] : by_number) {
    if (number != expected) return ErrorAt(pos, "computation '", comp.name, "' lacks parameter(", expected, ")");
    comp.parameters.push_back(instr);
    ++expected;
  }
  return OkStatus();
}

Status Parser::ParseComputation(Module& module, bool& saw_entry) {
  SkipWs();
  size_t start = pos_;
  bool is_entry = ConsumeWord("ENTRY");
  auto comp = std::make_unique<Computation>();
  PJIT_ASSIGN_OR_RETURN(comp->name, ParseName("a computation name"));
  if (computations_by_name_.count(comp->name)) return ErrorAt(start, "computation '", comp->name, "' is defined twice");
  if (Peek() == '(') PJIT_RETURN_IF_ERROR(ParseSignature());
  PJIT_RETURN_IF_ERROR(Expect('{'));
  std::vector<PendingOperand> operands;
  bool has_root = false;
  while (!Consume('}')) {
    if (AtEnd()) return ErrorAt(start, "computation '", comp->name, "' is not closed with '}'");
    PJIT_RETURN_IF_ERROR(ParseInstruction(*comp, operands, has_root));
  }
  PJIT_RETURN_IF_ERROR(FinishComputation(*comp, operands, start));
  if (is_entry) {
    if (saw_entry) return ErrorAt(start, "more than one ENTRY computation");
    saw_entry = true;
    module.entry = comp.get();
  }
  computations_by_name_[comp->name] = comp.get();
  module.computations.push_back(std::move(comp));
  return OkStatus();
}

Status Parser::ParseStackFrameTables(Module& module) {
  SkipWs();
  size_t start = pos_;
  size_t end = pos_;
  while (true) {
    std::string_view w = PeekWord();
    if (w != "FileNames" && w != "FunctionNames" && w != "FileLocations" && w != "StackFrames") break;
    pos_ += w.size();
    end = pos_;
    while (std::isdigit(static_cast<unsigned char>(Peek()))) {
      PJIT_RETURN_IF_ERROR(ParseInt().status());
      if (Peek() == '"') PJIT_RETURN_IF_ERROR(ParseString().status());
      else PJIT_RETURN_IF_ERROR(ParseBraced().status());
      end = pos_;
    }
  }
  module.stack_frame_tables = std::string(text_.substr(start, end - start));
  return OkStatus();
}

Status Parser::ResolveCalls(Module& module) {
  for (const PendingCall& call : calls_) {
    auto c = computations_by_name_.find(call.name);
    if (c == computations_by_name_.end()) return ErrorAt(call.pos, "unknown computation '", call.name, "'");
    call.user->called[call.slot] = c->second;
  }
  for (const auto& comp : module.computations)
    for (const auto& instr : comp->instructions)
      for (Computation* c : instr->called)
        if (!c) return InvalidArgument(instr->location, ": a called computation of '", instr->name, "' is missing");
  // Callees before callers, by depth-first post-order over the call graph, with a stack of
  // its own: call chains may be as long as the program.
  std::unordered_map<const Computation*, int> state;  // 1: on the stack, 2: done
  std::vector<std::unique_ptr<Computation>> ordered;
  std::unordered_map<const Computation*, size_t> index;
  for (size_t i = 0; i < module.computations.size(); ++i) index[module.computations[i].get()] = i;
  struct Frame {
    Computation* computation;
    size_t instruction = 0, slot = 0;  // the next callee to visit
  };
  std::vector<Computation*> all;
  for (const auto& c : module.computations) all.push_back(c.get());
  for (Computation* first : all) {
    if (state[first]) continue;
    state[first] = 1;
    std::vector<Frame> stack = {{first}};
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.instruction == f.computation->instructions.size()) {
        state[f.computation] = 2;
        ordered.push_back(std::move(module.computations[index[f.computation]]));
        stack.pop_back();
        continue;
      }
      const Instruction& instr = *f.computation->instructions[f.instruction];
      if (f.slot == instr.called.size()) {
        ++f.instruction, f.slot = 0;
        continue;
      }
      Computation* callee = instr.called[f.slot++];
      int& s = state[callee];
      if (s == 1) return InvalidArgument(instr.location, ": '", instr.name, "' calls '", callee->name, "' recursively");
      if (s == 0) {
        s = 1;
        stack.push_back({callee});
      }
    }
  }
  module.computations = std::move(ordered);
  return OkStatus();
}

// Callees come before callers and operands before users, so one pass in order sees every
// operand's (and callee root's) shape before it is needed.
Status Parser::InferOmittedShapes(Module& module) {
  if (inferred_.empty()) return OkStatus();
  std::set<const Instruction*> pending(inferred_.begin(), inferred_.end());
  for (const auto& comp : module.computations)
    for (const auto& instr : comp->instructions) {
      if (!pending.count(instr.get())) continue;
      if (instr->opcode == Opcode::kDot || instr->opcode == Opcode::kConvolution)
        instr->shape.dtype = instr->operands.empty() ? DType::kInvalid : instr->operands[0]->shape.dtype;
      StatusOr<Shape> shape = InferShape(*instr);
      if (!shape.ok()) return InvalidArgument(instr->location, ": ", instr->name, ": ", shape.status().message());
      instr->shape = std::move(*shape);
    }
  return OkStatus();
}

StatusOr<std::unique_ptr<Module>> Parser::Run() {
  auto module = std::make_unique<Module>();
  if (!ConsumeWord("HloModule")) return Expected("'HloModule'");
  PJIT_ASSIGN_OR_RETURN(module->name, ParseName("a module name"));
  while (Consume(',')) {
    SkipWs();
    size_t key_pos = pos_;
    PJIT_ASSIGN_OR_RETURN(std::string key, ParseAttributeKey());
    PJIT_RETURN_IF_ERROR(Expect('='));
    if (key == "num_partitions") {
      PJIT_ASSIGN_OR_RETURN(module->num_partitions, ParseNonNegative("num_partitions"));
      if (*module->num_partitions > kMaxMeshDevices) return ErrorAt(key_pos, "num_partitions ", *module->num_partitions, " is more than 2^20 devices");
    } else if (key == "replica_count") {
      PJIT_ASSIGN_OR_RETURN(module->replica_count, ParseNonNegative("replica_count"));
    } else if (ModuleAttributeNames().count(key)) {
      if (module->FindAttribute(key)) return ErrorAt(key_pos, "duplicate module attribute '", key, "'");
      PJIT_ASSIGN_OR_RETURN(std::string value, ParseRawValue());
      module->attributes.emplace_back(std::move(key), std::move(value));
    } else {
      return ErrorAt(key_pos, "unsupported: module attribute '", key, "'");
    }
  }
  PJIT_RETURN_IF_ERROR(ParseStackFrameTables(*module));
  bool saw_entry = false;
  while (!AtEnd()) PJIT_RETURN_IF_ERROR(ParseComputation(*module, saw_entry));
  if (module->computations.empty()) return ErrorAt(pos_, "module '", module->name, "' has no computations");
  if (!module->entry) module->entry = module->computations.back().get();
  PJIT_RETURN_IF_ERROR(ResolveCalls(*module));
  PJIT_RETURN_IF_ERROR(InferOmittedShapes(*module));
  return module;
}

}  // namespace

StatusOr<std::unique_ptr<Module>> ParseHloModule(std::string_view text, std::string_view filename) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark, as some editors save
  return Parser(text, filename).Run();
}

StatusOr<std::unique_ptr<Module>> ParseHloFile(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseHloModule(text, path);
}

}  // namespace pjit
