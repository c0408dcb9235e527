#include "format/npy.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "format/file_util.h"
#include "format/hlo_parser.h"

namespace pjit {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
constexpr size_t kMaxNpyRank = 64;  // numpy's own limit

// A header fragment for an error message: quoted, padding trimmed, control bytes escaped.
std::string Quoted(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n')) text.remove_suffix(1);
  std::string out = "'";
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct Descr {
  DType dtype;
  std::string_view text;
};
constexpr std::array<Descr, 12> kDescrs = {{
    {DType::kPred, "|b1"}, {DType::kS8, "|i1"},  {DType::kS16, "<i2"}, {DType::kS32, "<i4"},
    {DType::kS64, "<i8"},  {DType::kU8, "|u1"},  {DType::kU16, "<u2"}, {DType::kU32, "<u4"},
    {DType::kU64, "<u8"},  {DType::kF16, "<f2"}, {DType::kF32, "<f4"}, {DType::kF64, "<f8"},
}};

StatusOr<DType> DTypeFromDescr(std::string_view d, std::string_view name) {
  if (d.size() >= 2 && d[0] == '>' && d.substr(1) != "b1" && d.substr(1, 1) != "i1" && d.substr(1) != "u1")
    return InvalidArgument(name, ": big-endian arrays (", Quoted(d), ") are not supported; save with '<'");
  if (d.size() == 3 && d.substr(1) == "V2") return DType::kBF16;
  for (const Descr& x : kDescrs)
    if (x.text.substr(1) == d.substr(1) && d.size() == 3) return x.dtype;
  return InvalidArgument(name, ": unsupported dtype ", Quoted(d));
}

std::string_view DescrOf(DType t) {
  if (t == DType::kBF16) return "<V2";  // as ml_dtypes.bfloat16 arrays are saved
  for (const Descr& x : kDescrs)
    if (x.dtype == t) return x.text;
  return "";
}

// Value of 'key' in the header dict, up to the next top-level ',' or '}'.
StatusOr<std::string_view> HeaderValue(std::string_view header, std::string_view key, std::string_view name) {
  std::string quoted = "'" + std::string(key) + "'";
  size_t k = header.find(quoted);
  if (k == std::string_view::npos) return InvalidArgument(name, ": .npy header lacks '", key, "'");
  size_t colon = header.find(':', k + quoted.size());
  if (colon == std::string_view::npos) return InvalidArgument(name, ": malformed .npy header");
  size_t b = colon + 1;
  while (b < header.size() && header[b] == ' ') ++b;
  size_t e = b;
  int depth = 0;
  while (e < header.size()) {
    char c = header[e];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    ++e;
  }
  if (e < header.size() && header[e] == ')') ++e;
  return header.substr(b, e - b);
}

uint32_t ReadLe(std::string_view b, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

void AppendLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  for (char ch : data) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

}  // namespace

StatusOr<Literal> ParseNpy(std::string_view bytes, std::string_view name) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic) return InvalidArgument(name, ": not a .npy file");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, header_at;
  if (major == 1) {
    header_len = ReadLe(bytes, 8, 2), header_at = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return InvalidArgument(name, ": truncated .npy header");
    header_len = ReadLe(bytes, 8, 4), header_at = 12;
  } else {
    return InvalidArgument(name, ": unsupported .npy version ", major);
  }
  if (bytes.size() - header_at < header_len) return InvalidArgument(name, ": truncated .npy header");
  std::string_view header = bytes.substr(header_at, header_len);
  PJIT_ASSIGN_OR_RETURN(std::string_view descr, HeaderValue(header, "descr", name));
  PJIT_ASSIGN_OR_RETURN(std::string_view fortran, HeaderValue(header, "fortran_order", name));
  PJIT_ASSIGN_OR_RETURN(std::string_view shape_text, HeaderValue(header, "shape", name));
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"'))
    return InvalidArgument(name, ": unsupported dtype ", Quoted(descr), " (structured arrays are not supported)");
  PJIT_ASSIGN_OR_RETURN(DType dtype, DTypeFromDescr(descr.substr(1, descr.size() - 2), name));
  if (fortran == "True") return InvalidArgument(name, ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
  if (fortran != "False") return InvalidArgument(name, ": malformed .npy header: fortran_order is ", Quoted(fortran), ", not True or False");
  if (shape_text.size() < 2 || shape_text.front() != '(' || shape_text.back() != ')')
    return InvalidArgument(name, ": malformed shape ", Quoted(shape_text));
  // The declared size is checked against the data before anything is allocated.
  std::vector<int64_t> dims;
  std::string_view inner = shape_text.substr(1, shape_text.size() - 2);
  uint64_t need = DTypeByteSize(dtype);
  bool overflow = false;
  size_t i = 0;
  while (i < inner.size()) {
    while (i < inner.size() && (inner[i] == ' ' || inner[i] == ',')) ++i;
    if (i >= inner.size()) break;
    uint64_t d = 0;
    bool digits = false;
    for (; i < inner.size() && inner[i] >= '0' && inner[i] <= '9'; ++i, digits = true) {
      overflow |= __builtin_mul_overflow(d, 10, &d) || __builtin_add_overflow(d, static_cast<uint64_t>(inner[i] - '0'), &d);
      overflow |= d > static_cast<uint64_t>(INT64_MAX);
    }
    if (!digits) return InvalidArgument(name, ": malformed shape ", Quoted(shape_text));
    overflow |= __builtin_mul_overflow(need, d, &need);
    dims.push_back(overflow ? 0 : static_cast<int64_t>(d));
  }
  if (dims.size() > kMaxNpyRank) return InvalidArgument(name, ": shape ", Quoted(shape_text), " has more than ", kMaxNpyRank, " dims");
  size_t data_at = header_at + header_len;
  uint64_t held = bytes.size() - data_at;
  if (overflow) return InvalidArgument(name, ": shape ", Quoted(shape_text), " holds more than 2^64 bytes; the file holds ", held);
  if (held != need) {
    Shape shape = Shape::Array(dtype, dims);
    return InvalidArgument(name, ": holds ", held, " data bytes, ", shape.ToString(false), " needs ", need);
  }
  Literal array = Literal::ForOverwrite(Shape::Array(dtype, dims));
  std::memcpy(array.bytes().data(), bytes.data() + data_at, array.bytes().size());
  if (dtype == DType::kPred)
    for (int64_t k = 0; k < array.element_count(); ++k)
      if (static_cast<unsigned char>(bytes[data_at + k]) > 1) return InvalidArgument(name, ": bool element ", k, " is neither 0 nor 1");
  return array;
}

std::string NpyHeader(const Literal& array) {
  // numpy's own spelling: "()", "(3,)", "(4, 9)".
  const std::vector<int64_t>& dims = array.shape().dims;
  std::string shape = "(";
  for (size_t i = 0; i < dims.size(); ++i) shape += (i ? ", " : "") + std::to_string(dims[i]);
  shape += dims.size() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + std::string(DescrOf(array.shape().dtype)) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that the data starts at a multiple of 64 bytes; the header ends with '\n'.
  size_t total = kMagic.size() + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic);
  out += '\x01';
  out += '\x00';
  AppendLe(out, header.size(), 2);
  out += header;
  return out;
}

std::string SerializeNpy(const Literal& array) {
  std::string out = NpyHeader(array);
  out.append(reinterpret_cast<const char*>(array.bytes().data()), array.bytes().size());
  return out;
}

StatusOr<Literal> ReadNpy(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return ParseNpy(bytes, path);
}

Status WriteNpy(const std::string& path, const Literal& array) {
  if (!array.shape().IsArray()) return InvalidArgument(path, ": only arrays can be written as .npy, not ", array.shape().ToString());
  std::span<const std::byte> data = array.bytes();
  return WriteFileAtomically(path, {NpyHeader(array), std::string_view(reinterpret_cast<const char*>(data.data()), data.size())});
}

StatusOr<NamedArrays> ReadNpz(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(std::string z, ReadFileToString(path));
  // End of central directory record: the last "PK\5\6" within the final 64 KiB + 22 bytes.
  size_t eocd = std::string::npos;
  for (size_t i = z.size() >= 22 ? z.size() - 22 : 0; i + 22 <= z.size() && i + 65557 >= z.size(); --i) {
    if (z.compare(i, 4, "PK\x05\x06") == 0) {
      eocd = i;
      break;
    }
    if (i == 0) break;
  }
  if (eocd == std::string::npos) return InvalidArgument(path, ": not a .npz (zip) file");
  uint32_t count = ReadLe(z, eocd + 10, 2);
  uint32_t dir = ReadLe(z, eocd + 16, 4);
  if (dir == 0xffffffffu) return InvalidArgument(path, ": zip64 archives are not supported");
  NamedArrays out;
  size_t at = dir;
  for (uint32_t n = 0; n < count; ++n) {
    if (at + 46 > z.size() || z.compare(at, 4, "PK\x01\x02") != 0) return InvalidArgument(path, ": corrupt zip central directory");
    uint32_t method = ReadLe(z, at + 10, 2);
    size_t size = ReadLe(z, at + 20, 4);
    uint32_t name_len = ReadLe(z, at + 28, 2), extra_len = ReadLe(z, at + 30, 2), comment_len = ReadLe(z, at + 32, 2);
    size_t local = ReadLe(z, at + 42, 4);  // size_t: offset + 30 must not wrap
    std::string name = z.substr(at + 46, name_len);
    at += 46 + name_len + extra_len + comment_len;
    if (method != 0) return InvalidArgument(path, ": member '", name, "' is compressed; write it with np.savez, not np.savez_compressed");
    if (local + 30 > z.size() || z.compare(local, 4, "PK\x03\x04") != 0) return InvalidArgument(path, ": corrupt zip entry '", name, "'");
    size_t data = local + 30 + ReadLe(z, local + 26, 2) + ReadLe(z, local + 28, 2);
    if (data + size > z.size()) return InvalidArgument(path, ": truncated zip entry '", name, "'");
    PJIT_ASSIGN_OR_RETURN(Literal array, ParseNpy(std::string_view(z).substr(data, size), path + ":" + name));
    if (name.size() > 4 && name.substr(name.size() - 4) == ".npy") name.resize(name.size() - 4);
    out.emplace_back(std::move(name), std::move(array));
  }
  return out;
}

Status WriteNpz(const std::string& path, const NamedArrays& arrays) {
  std::string z, dir;
  for (const auto& [name, array] : arrays) {
    std::string file = name + ".npy";
    std::string data = SerializeNpy(array);
    uint32_t crc = Crc32(data), offset = static_cast<uint32_t>(z.size());
    if (z.size() + data.size() > 0xffffffffu) return InvalidArgument(path, ": .npz larger than 4 GiB is not supported");
    auto common = [&](std::string& out) {
      AppendLe(out, 20, 2);  // version needed
      AppendLe(out, 0, 2);   // flags
      AppendLe(out, 0, 2);   // stored
      AppendLe(out, 0, 2);   // time
      AppendLe(out, 0x21, 2);  // date: 1980-01-01, fixed for reproducible files
      AppendLe(out, crc, 4);
      AppendLe(out, data.size(), 4);
      AppendLe(out, data.size(), 4);
      AppendLe(out, file.size(), 2);
      AppendLe(out, 0, 2);  // extra
    };
    z += "PK\x03\x04";
    common(z);
    z += file + data;
    dir += "PK\x01\x02";
    AppendLe(dir, 20, 2);  // version made by
    common(dir);
    AppendLe(dir, 0, 2);  // comment
    AppendLe(dir, 0, 2);  // disk
    AppendLe(dir, 0, 2);  // internal attributes
    AppendLe(dir, 0, 4);  // external attributes
    AppendLe(dir, offset, 4);
    dir += file;
  }
  uint32_t dir_at = static_cast<uint32_t>(z.size());
  z += dir;
  z += "PK\x05\x06";
  AppendLe(z, 0, 4);
  AppendLe(z, arrays.size(), 2);
  AppendLe(z, arrays.size(), 2);
  AppendLe(z, dir.size(), 4);
  AppendLe(z, dir_at, 4);
  AppendLe(z, 0, 2);
  return WriteFileAtomically(path, z);
}

}  // namespace pjit
