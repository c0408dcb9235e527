#include "run/input_binding.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <random>

#include "format/npy.h"

namespace pjit {
namespace {

// "2x3xf32" → (f32, {2, 3}); "f32" → a scalar.
std::optional<Shape> ParseShapeType(const std::string& text) {
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    size_t x = text.find('x', start);
    parts.push_back(text.substr(start, x == std::string::npos ? std::string::npos : x - start));
    if (x == std::string::npos) break;
    start = x + 1;
  }
  std::string type = parts.back();
  // IREE writes signed integers as i32; HLO as s32.
  if (type.size() > 1 && type[0] == 'i' && type.find_first_not_of("0123456789", 1) == std::string::npos) type[0] = 's';
  if (type == "i1") type = "pred";
  std::optional<DType> dtype = DTypeFromName(type);
  if (!dtype || !IsArrayType(*dtype)) return std::nullopt;
  std::vector<int64_t> dims;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i].empty() || parts[i].size() > 12 || parts[i].find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    dims.push_back(std::stoll(parts[i]));
  }
  return Shape::Array(*dtype, dims);
}

bool IsIndex(const std::string& s) {
  return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

Literal RandomArray(const Shape& shape, uint64_t seed) {
  Literal out(Shape::Array(shape.dtype, shape.dims));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 15);
  for (int64_t i = 0; i < out.element_count(); ++i) {
    if (IsFloating(shape.dtype)) out.SetFromDouble(i, real(rng));
    else if (shape.dtype == DType::kPred) out.SetFromDouble(i, static_cast<double>(small(rng) & 1));
    else out.SetFromDouble(i, small(rng));
  }
  return out;
}

struct Binder {
  const std::vector<ArrayInfo>& slots;
  const BindingOptions& options;
  std::vector<std::optional<Literal>> bound;

  std::string Describe(size_t i) const {
    return StrCat(options.what, " ", i, " (", slots[i].name, ")");
  }

  StatusOr<size_t> Slot(const std::string& spec, const std::string& key) const {
    if (IsIndex(key)) {
      size_t i = std::stoul(key);
      if (i < slots.size()) return i;
    } else {
      for (size_t i = 0; i < slots.size(); ++i)
        if (slots[i].name == key) return i;
    }
    std::string names;
    for (const ArrayInfo& s : slots) names += (names.empty() ? "" : ", ") + s.name;
    return InvalidArgument(options.flag, " ", spec, ": no array '", key, "' (there are ", slots.size(), ": ", names, ")");
  }

  StatusOr<size_t> NextFree(const std::string& spec) const {
    for (size_t i = 0; i < bound.size(); ++i)
      if (!bound[i]) return i;
    return InvalidArgument(options.flag, " ", spec, ": every one of the ", slots.size(), " arrays is bound already");
  }

  Status Bind(const std::string& spec, size_t i, Literal array, const std::string& from) {
    if (bound[i]) return InvalidArgument(options.flag, " ", spec, ": ", Describe(i), " is given twice");
    const Shape& want = slots[i].shape;
    if (array.shape().dtype != want.dtype || array.shape().dims != want.dims)
      return InvalidArgument(options.flag, " ", spec, ": ", from == spec ? "it" : from, " is ", array.shape().ToString(false),
                             " but ", Describe(i), " is ", want.ToString(false));
    bound[i] = std::move(array);
    return OkStatus();
  }

  // The array that `value` stands for in slot i.
  StatusOr<Literal> Value(const std::string& spec, const std::string& value, size_t i) const {
    if (value == "@random") return RandomArray(slots[i].shape, options.seed * 1000003 + i);
    size_t eq = value.find('=');
    if (eq != std::string::npos && ParseShapeType(value.substr(0, eq))) return ParseArrayLiteral(value);
    StatusOr<Literal> array = ReadNpy(value);
    if (!array.ok()) return InvalidArgument(options.flag, " ", spec, ": ", array.status().message());
    return array;
  }

  Status Add(const std::string& spec) {
    if (spec.ends_with(".npz") && spec.find('=') == std::string::npos) {
      StatusOr<NamedArrays> members = ReadNpz(spec);
      if (!members.ok()) return InvalidArgument(options.flag, " ", spec, ": ", members.status().message());
      for (auto& [name, array] : *members) {
        std::string key = name.starts_with("arr_") && IsIndex(name.substr(4)) ? name.substr(4) : name;
        PJIT_ASSIGN_OR_RETURN(size_t i, Slot(spec + "[" + name + "]", key));
        PJIT_RETURN_IF_ERROR(Bind(spec, i, std::move(array), name));
      }
      return OkStatus();
    }
    size_t eq = spec.find('=');
    std::string key = eq == std::string::npos ? "" : spec.substr(0, eq);
    bool keyed = eq != std::string::npos && eq > 0 && !ParseShapeType(key);
    if (!keyed) {
      PJIT_ASSIGN_OR_RETURN(size_t i, NextFree(spec));
      PJIT_ASSIGN_OR_RETURN(Literal array, Value(spec, spec, i));
      return Bind(spec, i, std::move(array), spec);
    }
    std::string value = spec.substr(eq + 1);
    if (value.empty()) return InvalidArgument(options.flag, " ", spec, ": expected KEY=FILE.npy, KEY=@random or KEY=2x3xf32=1,2,3");
    PJIT_ASSIGN_OR_RETURN(size_t i, Slot(spec, key));
    PJIT_ASSIGN_OR_RETURN(Literal array, Value(spec, value, i));
    return Bind(spec, i, std::move(array), value);
  }
};

}  // namespace

StatusOr<Literal> ParseArrayLiteral(const std::string& spec) {
  size_t eq = spec.find('=');
  std::optional<Shape> shape = eq == std::string::npos ? std::nullopt : ParseShapeType(spec.substr(0, eq));
  if (!shape) return InvalidArgument("'", spec, "': expected a literal like 2x3xf32=1,2,3,4,5,6");
  // Checked before anything is allocated: a literal is typed on a command line, not a weight.
  uint64_t bytes = static_cast<uint64_t>(DTypeByteSize(shape->dtype));
  for (int64_t d : shape->dims)
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes)) bytes = UINT64_MAX;
  if (bytes > kMaxLiteralBytes)
    return InvalidArgument("'", spec.substr(0, eq), "': a literal of more than ", kMaxLiteralBytes >> 20, " MiB; give a .npy file");
  Literal out(*shape);
  std::vector<double> values;
  std::string text = spec.substr(eq + 1);
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string v = text.substr(start, comma - start);
    if (v == "true") v = "1";
    if (v == "false") v = "0";
    char* end = nullptr;
    errno = 0;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno == ERANGE) return InvalidArgument("'", spec, "': '", v, "' is not a number");
    values.push_back(d);
    start = comma + 1;
  }
  int64_t n = out.element_count();
  if (values.size() != 1 && static_cast<int64_t>(values.size()) != n)
    return InvalidArgument("'", spec, "': ", values.size(), " values for ", n, " elements (give all of them, or one to fill)");
  DType t = shape->dtype;
  for (double v : values) {
    bool fits = true;
    if (t == DType::kPred) {
      fits = v == 0 || v == 1;
    } else if (IsInteger(t)) {
      int bits = static_cast<int>(DTypeByteSize(t) * 8);
      double lo = IsSignedInt(t) ? -std::ldexp(1.0, bits - 1) : 0, hi = std::ldexp(1.0, IsSignedInt(t) ? bits - 1 : bits);
      fits = std::nearbyint(v) == v && v >= lo && v < hi;
    }
    if (!fits) return InvalidArgument("'", spec, "': ", v, " is not a ", DTypeName(t), " value");
  }
  for (int64_t i = 0; i < n; ++i) out.SetFromDouble(i, values.size() == 1 ? values[0] : values[static_cast<size_t>(i)]);
  return out;
}

StatusOr<std::vector<Literal>> BindArrays(const std::vector<ArrayInfo>& slots, const std::vector<std::string>& specs,
                                          const BindingOptions& options) {
  Binder b{slots, options, std::vector<std::optional<Literal>>(slots.size())};
  for (const std::string& spec : specs) PJIT_RETURN_IF_ERROR(b.Add(spec));
  std::vector<Literal> out;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (!b.bound[i] && options.require_all)
      return InvalidArgument("no ", options.flag, " for ", b.Describe(i), ": ", slots[i].shape.ToString(false));
    out.push_back(b.bound[i] ? std::move(*b.bound[i]) : Literal());
  }
  return out;
}

}  // namespace pjit
