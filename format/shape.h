// Shapes: an array (element type, dims, optional layout), a tuple of shapes, or a token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "format/dtype.h"

namespace pjit {

// Minor-to-major dimension order. What follows ':' in HLO text (tiles, memory space,
// element size) does not change pjit's semantics; it is kept verbatim so printing loses nothing.
struct Layout {
  std::vector<int64_t> minor_to_major;
  std::string details;
  bool operator==(const Layout&) const = default;
};

struct Shape {
  DType dtype = DType::kInvalid;
  std::vector<int64_t> dims;
  std::optional<Layout> layout;
  std::vector<Shape> tuple_shapes;

  static Shape Array(DType dtype, std::vector<int64_t> dims);
  static Shape Tuple(std::vector<Shape> elements);
  static Shape Token();

  bool IsArray() const { return IsArrayType(dtype); }
  bool IsTuple() const { return dtype == DType::kTuple; }
  bool IsToken() const { return dtype == DType::kToken; }
  int64_t rank() const { return static_cast<int64_t>(dims.size()); }
  int64_t ElementCount() const;
  int64_t ByteSize() const;  // arrays only

  // Same element type and dims (recursively for tuples); layouts are ignored.
  bool Compatible(const Shape& other) const;
  bool operator==(const Shape&) const = default;

  // HLO text: "f32[4,8]{1,0}", "(f32[], s32[2])", "token[]".
  std::string ToString(bool with_layout = true) const;
};

// No array may have more elements than this, so that sizes and byte counts never overflow
// int64 (hostile text or artifacts are refused with an error instead).
inline constexpr int64_t kMaxElementCount = int64_t{1} << 50;

// True when every array in `shape` has at most kMaxElementCount elements.
bool WithinElementLimit(const Shape& shape);

// The non-tuple leaves of a shape, depth first (the shape itself when it is no tuple).
std::vector<const Shape*> LeafShapes(const Shape& shape);

// Row-major strides in elements for dims.
std::vector<int64_t> RowMajorStrides(const std::vector<int64_t>& dims);

// An array's dims from major to minor in memory: 0, 1, ..., rank-1 (row-major) when it has
// no layout or one that is not a permutation of its dims, else its minor_to_major reversed.
// Only bitcast depends on it; layout normalisation leaves every array row-major.
std::vector<int64_t> MajorToMinor(const Shape& array);
bool IsRowMajor(const Shape& array);

}  // namespace pjit
