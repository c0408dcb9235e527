#include "format/shape.h"

namespace pjit {

Shape Shape::Array(DType dtype, std::vector<int64_t> dims) {
  Shape s;
  s.dtype = dtype;
  s.dims = std::move(dims);
  return s;
}

Shape Shape::Tuple(std::vector<Shape> elements) {
  Shape s;
  s.dtype = DType::kTuple;
  s.tuple_shapes = std::move(elements);
  return s;
}

Shape Shape::Token() {
  Shape s;
  s.dtype = DType::kToken;
  return s;
}

int64_t Shape::ElementCount() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

int64_t Shape::ByteSize() const { return ElementCount() * DTypeByteSize(dtype); }

bool Shape::Compatible(const Shape& other) const {
  if (dtype != other.dtype || dims != other.dims) return false;
  if (tuple_shapes.size() != other.tuple_shapes.size()) return false;
  for (size_t i = 0; i < tuple_shapes.size(); ++i)
    if (!tuple_shapes[i].Compatible(other.tuple_shapes[i])) return false;
  return true;
}

std::string Shape::ToString(bool with_layout) const {
  if (IsTuple()) {
    std::string out = "(";
    for (size_t i = 0; i < tuple_shapes.size(); ++i) {
      if (i) out += ", ";
      out += tuple_shapes[i].ToString(with_layout);
    }
    return out + ")";
  }
  std::string out(DTypeName(dtype));
  out += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(dims[i]);
  }
  out += "]";
  if (with_layout && layout && IsArray()) {
    out += "{";
    for (size_t i = 0; i < layout->minor_to_major.size(); ++i) {
      if (i) out += ",";
      out += std::to_string(layout->minor_to_major[i]);
    }
    if (!layout->details.empty()) out += ":" + layout->details;
    out += "}";
  }
  return out;
}

bool WithinElementLimit(const Shape& shape) {
  for (const Shape& e : shape.tuple_shapes)
    if (!WithinElementLimit(e)) return false;
  int64_t n = 1;
  for (int64_t d : shape.dims) {
    if (d < 0 || (d > 0 && n > kMaxElementCount / d)) return false;
    n *= d;
  }
  return true;
}

std::vector<int64_t> RowMajorStrides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (int64_t i = static_cast<int64_t>(dims.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

namespace {
void CollectLeaves(const Shape& s, std::vector<const Shape*>& out) {
  if (!s.IsTuple()) {
    out.push_back(&s);
    return;
  }
  for (const Shape& e : s.tuple_shapes) CollectLeaves(e, out);
}
}  // namespace

std::vector<const Shape*> LeafShapes(const Shape& shape) {
  std::vector<const Shape*> out;
  CollectLeaves(shape, out);
  return out;
}

std::vector<int64_t> MajorToMinor(const Shape& array) {
  const size_t rank = array.dims.size();
  std::vector<int64_t> order(rank);
  for (size_t i = 0; i < rank; ++i) order[i] = static_cast<int64_t>(i);
  if (!array.layout || array.layout->minor_to_major.size() != rank) return order;
  std::vector<int64_t> major(array.layout->minor_to_major.rbegin(), array.layout->minor_to_major.rend());
  std::vector<bool> seen(rank, false);
  for (int64_t d : major) {
    if (d < 0 || static_cast<size_t>(d) >= rank || seen[static_cast<size_t>(d)]) return order;
    seen[static_cast<size_t>(d)] = true;
  }
  return major;
}

bool IsRowMajor(const Shape& array) {
  std::vector<int64_t> order = MajorToMinor(array);
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] != static_cast<int64_t>(i)) return false;
  return true;
}

}  // namespace pjit
