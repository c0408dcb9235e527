// Program model ⇄ the FlatBuffers form of the artifact. Internal to the artifact writer and
// reader (it includes the generated schema header, which nothing else should).
#pragma once

#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "format/artifact_generated.h"
#include "format/hlo_module.h"
#include "format/status.h"

namespace pjit {

// Stores array bytes in the blob area and returns the blob index.
using BlobSink = std::function<uint32_t(std::string_view name, std::string_view bytes)>;
// Returns the bytes of a blob, or an error when the index is bad.
using BlobSource = std::function<StatusOr<std::string_view>(int64_t index)>;

// FlatBuffers 2.0's verifier checks the 4-byte alignment of a vector's length but not the
// 8-byte alignment of its elements, so a damaged file can misalign [long] and struct
// vectors. These copy the bytes out and never dereference element pointers.
std::vector<int64_t> ReadLongs(const flatbuffers::Vector<int64_t>* v);
template <typename T>
std::vector<T> ReadStructs(const flatbuffers::Vector<const T*>* v) {
  std::vector<T> out(v ? v->size() : 0);
  if (!out.empty()) std::memcpy(static_cast<void*>(out.data()), v->Data(), out.size() * sizeof(T));
  return out;
}

flatbuffers::Offset<fb::Shape> ShapeToFlatBuffer(flatbuffers::FlatBufferBuilder& b, const Shape& shape);
StatusOr<Shape> ShapeFromFlatBuffer(const fb::Shape* shape);

flatbuffers::Offset<fb::Module> ModuleToFlatBuffer(flatbuffers::FlatBufferBuilder& b, const Module& module,
                                                   const BlobSink& blobs);
// Checks every index and value as it goes; the result still needs VerifyModule.
StatusOr<std::unique_ptr<Module>> ModuleFromFlatBuffer(const fb::Module* module, const BlobSource& blobs);

}  // namespace pjit
