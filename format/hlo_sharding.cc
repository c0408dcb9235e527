#include "format/hlo_sharding.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <numeric>
#include <set>

#include "format/mesh.h"
#include "format/text_scan.h"

namespace pjit {

std::vector<int64_t> TileAssignment::Devices() const { return iota ? iota->Expand() : explicit_devices; }

int64_t TileAssignment::num_tiles() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

HloSharding HloSharding::Tiled(TileAssignment tiles, bool last_tile_dim_replicate) {
  HloSharding s;
  s.kind = Kind::kTiled;
  s.tiles = std::move(tiles);
  s.last_tile_dim_replicate = last_tile_dim_replicate;
  return s;
}

HloSharding HloSharding::Tuple(std::vector<HloSharding> elements) {
  HloSharding s;
  s.kind = Kind::kTuple;
  s.elements = std::move(elements);
  return s;
}

int64_t HloSharding::TiledRank() const {
  return static_cast<int64_t>(tiles.dims.size()) - (last_tile_dim_replicate ? 1 : 0) -
         static_cast<int64_t>(last_tile_dims.size());
}

bool HloSharding::operator==(const HloSharding& o) const {
  return kind == o.kind && (kind != Kind::kMaximal || device == o.device) && (kind != Kind::kTiled || tiles == o.tiles) &&
         last_tile_dim_replicate == o.last_tile_dim_replicate && last_tile_dims == o.last_tile_dims &&
         elements == o.elements && shard_as == o.shard_as && shard_like == o.shard_like;
}

namespace {

std::string Join(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

std::string HloSharding::ToString() const {
  std::string out = "{";
  switch (kind) {
    case Kind::kTuple:
      for (size_t i = 0; i < elements.size(); ++i) out += (i ? ", " : "") + elements[i].ToString();
      return out + "}";
    case Kind::kReplicated: out += "replicated"; break;
    case Kind::kManual: out += "manual"; break;
    case Kind::kUnknown: out += "unknown"; break;
    case Kind::kMaximal: out += "maximal device=" + std::to_string(device); break;
    case Kind::kTiled:
      out += "devices=[" + Join(tiles.dims) + "]";
      if (tiles.iota) {
        out += "<=[" + Join(tiles.iota->reshape_dims) + "]";
        if (!tiles.iota->transpose_perm.empty()) out += "T(" + Join(tiles.iota->transpose_perm) + ")";
      } else {
        out += Join(tiles.explicit_devices);
      }
      if (last_tile_dim_replicate) out += " last_tile_dim_replicate";
      if (!last_tile_dims.empty()) {
        out += " last_tile_dims={";
        for (size_t i = 0; i < last_tile_dims.size(); ++i)
          out += std::string(i ? ", " : "") + (last_tile_dims[i] == SubgroupKind::kManual ? "manual" : "replicated");
        out += "}";
      }
      break;
  }
  if (metadata.size() == 1) out += " metadata=" + metadata[0];
  if (metadata.size() > 1) {
    out += " metadata={";
    for (size_t i = 0; i < metadata.size(); ++i) out += (i ? ", " : "") + metadata[i];
    out += "}";
  }
  if (shard_as) out += " shard_as " + std::to_string(*shard_as);
  if (shard_like) out += " shard_like " + std::to_string(*shard_like);
  return out + "}";
}

IotaTileAssignment CanonicalIota(const IotaTileAssignment& in) {
  std::vector<int64_t> reshape = in.reshape_dims;
  std::vector<int64_t> perm = in.transpose_perm;
  if (perm.empty()) {
    perm.resize(reshape.size());
    std::iota(perm.begin(), perm.end(), 0);
  }
  // Drop size-1 reshape dims, renumbering the permutation.
  std::vector<int64_t> keep_index(reshape.size(), -1);
  std::vector<int64_t> kept;
  for (size_t i = 0; i < reshape.size(); ++i)
    if (reshape[i] != 1) keep_index[i] = static_cast<int64_t>(kept.size()), kept.push_back(reshape[i]);
  std::vector<int64_t> p;
  for (int64_t d : perm)
    if (keep_index[d] >= 0) p.push_back(keep_index[d]);
  reshape = kept;
  // Merge runs where consecutive transposed dims are consecutive source dims.
  bool merged = true;
  while (merged) {
    merged = false;
    for (size_t i = 0; i + 1 < p.size(); ++i) {
      if (p[i + 1] != p[i] + 1) continue;
      int64_t a = p[i];
      reshape[a] *= reshape[a + 1];
      reshape.erase(reshape.begin() + a + 1);
      p.erase(p.begin() + static_cast<int64_t>(i) + 1);
      for (int64_t& x : p)
        if (x > a) --x;
      merged = true;
      break;
    }
  }
  IotaTileAssignment out;
  out.dims = in.dims;
  bool identity = true;
  for (size_t i = 0; i < p.size(); ++i) identity = identity && p[i] == static_cast<int64_t>(i);
  int64_t n = 1;
  for (int64_t d : reshape) n *= d;
  if (identity) {
    out.reshape_dims = {n};
  } else {
    out.reshape_dims = reshape;
    out.transpose_perm = p;
  }
  return out;
}

namespace {

class ShardingParser {
 public:
  explicit ShardingParser(std::string_view text) : text_(text) {}

  StatusOr<HloSharding> Parse() {
    PJIT_ASSIGN_OR_RETURN(HloSharding s, ParseSharding(0));
    SkipWs();
    if (pos_ != text_.size()) return Error("unexpected text after the sharding");
    return s;
  }
  size_t pos() const { return pos_; }

 private:
  template <typename... Args>
  Status Error(const Args&... args) {
    return InvalidArgument("invalid sharding: ", args...);
  }
  template <typename... Args>
  Status Unsupported(const Args&... args) {
    return pjit::Unimplemented(args...);
  }
  template <typename... Args>
  Status ErrorAt(size_t at, const Args&... args) {
    pos_ = at;
    return Error(args...);
  }
  void SkipWs() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Consume(char c) {
    SkipWs();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(std::string_view w) {
    SkipWs();
    if (text_.substr(pos_, w.size()) != w) return false;
    size_t end = pos_ + w.size();
    if (end < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) return false;
    pos_ = end;
    return true;
  }
  Status Expect(char c) {
    if (Consume(c)) return OkStatus();
    return Error("expected '", std::string(1, c), "'");
  }
  StatusOr<int64_t> Int() {
    SkipWs();
    int64_t v = 0;
    auto r = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), v);
    if (r.ec != std::errc() || v < 0) return Error("expected a non-negative integer");
    pos_ = static_cast<size_t>(r.ptr - text_.data());
    return v;
  }
  StatusOr<std::vector<int64_t>> Bracketed() {
    PJIT_RETURN_IF_ERROR(Expect('['));
    std::vector<int64_t> v;
    if (Consume(']')) return v;
    do {
      PJIT_ASSIGN_OR_RETURN(int64_t x, Int());
      v.push_back(x);
    } while (Consume(','));
    PJIT_RETURN_IF_ERROR(Expect(']'));
    return v;
  }
  // A "{...}" block verbatim, strings respected.
  StatusOr<std::string> Braced() {
    SkipWs();
    size_t start = pos_;
    std::optional<size_t> end = EndOfBraced(text_, start);
    if (!end || text_[start] != '{') return Error("unbalanced '{'");
    pos_ = *end;
    return std::string(text_.substr(start, pos_ - start));
  }

  StatusOr<HloSharding> ParseSharding(int depth) {
    if (depth > 8) return Error("tuple shardings nested too deeply");
    PJIT_RETURN_IF_ERROR(Expect('{'));
    SkipWs();
    if (Consume('}')) return HloSharding::Tuple({});
    if (pos_ < text_.size() && text_[pos_] == '{') {
      std::vector<HloSharding> elements;
      do {
        PJIT_ASSIGN_OR_RETURN(HloSharding e, ParseSharding(depth + 1));
        if (e.kind == HloSharding::Kind::kTuple) {  // tuple shardings are flat lists of leaves
          elements.insert(elements.end(), e.elements.begin(), e.elements.end());
        } else {
          elements.push_back(std::move(e));
        }
      } while (Consume(','));
      PJIT_RETURN_IF_ERROR(Expect('}'));
      return HloSharding::Tuple(std::move(elements));
    }
    HloSharding s;
    size_t tiles_start = pos_;
    if (ConsumeWord("replicated")) {
      s.kind = HloSharding::Kind::kReplicated;
    } else if (ConsumeWord("manual")) {
      s.kind = HloSharding::Kind::kManual;
    } else if (ConsumeWord("unknown")) {
      s.kind = HloSharding::Kind::kUnknown;
    } else if (ConsumeWord("maximal")) {
      s.kind = HloSharding::Kind::kMaximal;
      SkipWs();
      if (text_.substr(pos_, 7) != "device=") return Error("expected 'device=' after 'maximal'");
      pos_ += 7;
      PJIT_ASSIGN_OR_RETURN(s.device, Int());
    } else if (SkipWs(), text_.substr(pos_, 8) == "devices=") {
      tiles_start = pos_;
      pos_ += 8;
      s.kind = HloSharding::Kind::kTiled;
      PJIT_ASSIGN_OR_RETURN(s.tiles.dims, Bracketed());
      if (s.tiles.dims.empty()) return Error("devices=[] needs at least one dimension");
      int64_t n = 1;
      for (int64_t d : s.tiles.dims) {
        if (d < 1 || d > kMaxMeshDevices || n * d > kMaxMeshDevices) return Error("tile dimensions must be in [1, 2^20] devices");
        n *= d;
      }
      SkipWs();
      size_t list_start = pos_;  // errors about the device list point here
      if (text_.substr(pos_, 2) == "<=") {
        pos_ += 2;
        IotaTileAssignment iota;
        iota.dims = s.tiles.dims;
        PJIT_ASSIGN_OR_RETURN(iota.reshape_dims, Bracketed());
        if (Consume('T')) {
          PJIT_RETURN_IF_ERROR(Expect('('));
          do {
            PJIT_ASSIGN_OR_RETURN(int64_t x, Int());
            iota.transpose_perm.push_back(x);
          } while (Consume(','));
          PJIT_RETURN_IF_ERROR(Expect(')'));
        }
        int64_t m = 1;
        for (int64_t d : iota.reshape_dims) {
          if (d < 1 || d > n) return ErrorAt(list_start, "iota reshape dims do not match ", n, " devices");
          m *= d;
        }
        if (m != n) return ErrorAt(list_start, "iota reshape dims hold ", m, " devices, the tiles ", n);
        if (!iota.transpose_perm.empty()) {
          std::vector<int64_t> sorted = iota.transpose_perm;
          std::sort(sorted.begin(), sorted.end());
          bool ok = sorted.size() == iota.reshape_dims.size();
          for (size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == static_cast<int64_t>(i);
          if (!ok) return ErrorAt(list_start, "T(...) is not a permutation of the iota reshape dims");
        }
        s.tiles.iota = std::move(iota);
      } else {
        do {
          PJIT_ASSIGN_OR_RETURN(int64_t d, Int());
          s.tiles.explicit_devices.push_back(d);
        } while (Consume(','));
        if (static_cast<int64_t>(s.tiles.explicit_devices.size()) != n)
          return ErrorAt(list_start, "devices=[...] lists ", s.tiles.explicit_devices.size(), " devices for ", n, " tiles");
      }
      std::vector<int64_t> devices = s.tiles.Devices();
      std::set<int64_t> unique(devices.begin(), devices.end());
      if (unique.size() != devices.size()) return ErrorAt(list_start, "a device appears twice in the tile assignment");
    } else if (SkipWs(), text_.substr(pos_, 5) == "mesh[" || text_.substr(pos_, 9) == "unreduced") {
      return Unsupported("unsupported: named sharding '", text_.substr(pos_, text_.find_first_of("[ }", pos_) - pos_), "' (XLA's mesh/unreduced forms)");
    } else {
      return Error("expected replicated, manual, unknown, maximal or devices=");
    }
    // Suffixes, in any order.
    while (true) {
      SkipWs();
      size_t suffix_start = pos_;
      if (ConsumeWord("last_tile_dim_replicate")) {
        if (!s.IsTiled()) return ErrorAt(suffix_start, "last_tile_dim_replicate needs devices=");
        s.last_tile_dim_replicate = true;
      } else if (SkipWs(), text_.substr(pos_, 15) == "last_tile_dims=") {
        pos_ += 15;
        if (!s.IsTiled()) return ErrorAt(suffix_start, "last_tile_dims needs devices=");
        PJIT_RETURN_IF_ERROR(Expect('{'));
        do {
          if (ConsumeWord("manual")) s.last_tile_dims.push_back(SubgroupKind::kManual);
          else if (ConsumeWord("replicated")) s.last_tile_dims.push_back(SubgroupKind::kReplicated);
          else if (ConsumeWord("unreduced")) return Unsupported("unsupported: unreduced subgroups in last_tile_dims");
          else return Error("last_tile_dims takes manual or replicated");
        } while (Consume(','));
        PJIT_RETURN_IF_ERROR(Expect('}'));
      } else if (SkipWs(), text_.substr(pos_, 9) == "metadata=") {
        pos_ += 9;
        PJIT_ASSIGN_OR_RETURN(std::string m, Braced());
        // "{{...}, {...}}" holds several entries; "{op_name=...}" one.
        std::string_view inner = std::string_view(m).substr(1, m.size() - 2);
        size_t first = inner.find_first_not_of(" ");
        if (first != std::string_view::npos && inner[first] == '{') {
          ShardingParser sub(inner);
          do {
            PJIT_ASSIGN_OR_RETURN(std::string e, sub.Braced());
            s.metadata.push_back(std::move(e));
          } while (sub.Consume(','));
        } else {
          s.metadata.push_back(std::move(m));
        }
      } else if (ConsumeWord("shard_as")) {
        PJIT_ASSIGN_OR_RETURN(int64_t g, Int());
        s.shard_as = g;
      } else if (ConsumeWord("shard_like")) {
        PJIT_ASSIGN_OR_RETURN(int64_t g, Int());
        s.shard_like = g;
      } else {
        break;
      }
    }
    if (s.last_tile_dim_replicate && !s.last_tile_dims.empty())
      return Error("last_tile_dim_replicate and last_tile_dims cannot both be given");
    if (s.IsTiled() && s.TiledRank() < 0) return ErrorAt(tiles_start, "more subgroup dims than tile dims");
    PJIT_RETURN_IF_ERROR(Expect('}'));
    return s;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<HloSharding> ParseHloSharding(std::string_view text, size_t* error_offset) {
  ShardingParser p(text);
  StatusOr<HloSharding> s = p.Parse();
  if (!s.ok() && error_offset) *error_offset = p.pos();
  return s;
}

int64_t LeafCount(const Shape& shape) {
  if (!shape.IsTuple()) return 1;
  int64_t n = 0;
  for (const Shape& e : shape.tuple_shapes) n += LeafCount(e);
  return n;
}

namespace {

size_t FirstLeaf(const Shape& tuple_shape, int64_t index) {
  size_t first = 0;
  for (int64_t j = 0; j < index; ++j) first += static_cast<size_t>(LeafCount(tuple_shape.tuple_shapes[j]));
  return first;
}

void AppendLeaves(const HloSharding& s, const Shape& shape, std::vector<HloSharding>& out) {
  if (s.kind == HloSharding::Kind::kTuple) {
    out.insert(out.end(), s.elements.begin(), s.elements.end());
  } else {
    for (int64_t i = 0; i < LeafCount(shape); ++i) out.push_back(s);
  }
}

}  // namespace

HloSharding ElementSharding(const HloSharding& s, const Shape& tuple_shape, int64_t index) {
  if (s.kind != HloSharding::Kind::kTuple) return s;
  const Shape& element = tuple_shape.tuple_shapes.at(static_cast<size_t>(index));
  size_t first = FirstLeaf(tuple_shape, index);
  if (!element.IsTuple()) return s.elements.at(first);
  return HloSharding::Tuple(std::vector<HloSharding>(s.elements.begin() + static_cast<int64_t>(first),
                                                     s.elements.begin() + static_cast<int64_t>(first) + LeafCount(element)));
}

HloSharding WithElementSharding(const std::optional<HloSharding>& tuple, const Shape& tuple_shape, int64_t index,
                                const HloSharding& e) {
  HloSharding out;
  if (tuple && tuple->kind == HloSharding::Kind::kTuple) {
    out = *tuple;
  } else {
    HloSharding unknown;
    unknown.kind = HloSharding::Kind::kUnknown;
    std::vector<HloSharding> leaves;
    if (tuple) AppendLeaves(*tuple, tuple_shape, leaves);
    else leaves.assign(static_cast<size_t>(LeafCount(tuple_shape)), unknown);
    out = HloSharding::Tuple(std::move(leaves));
  }
  std::vector<HloSharding> leaves;
  const Shape& element = tuple_shape.tuple_shapes.at(static_cast<size_t>(index));
  AppendLeaves(e, element, leaves);
  size_t first = FirstLeaf(tuple_shape, index);
  for (size_t i = 0; i < leaves.size() && first + i < out.elements.size(); ++i) out.elements[first + i] = leaves[i];
  return out;
}

int64_t DevicesImplied(const HloSharding& s) {
  int64_t n = 0;
  if (s.IsTiled()) {
    n = s.tiles.num_tiles();
    for (int64_t d : s.tiles.Devices()) n = std::max(n, d + 1);
  }
  for (const HloSharding& e : s.elements) n = std::max(n, DevicesImplied(e));
  return n;
}

Status ValidateSharding(const HloSharding& s, const Shape& shape, int64_t num_devices) {
  if (s.kind == HloSharding::Kind::kTuple) {
    if (!shape.IsTuple() || LeafCount(shape) != static_cast<int64_t>(s.elements.size()))
      return InvalidArgument("tuple sharding with ", s.elements.size(), " elements for ", shape.ToString(false));
    std::vector<const Shape*> leaves;
    std::vector<const Shape*> stack = {&shape};
    while (!stack.empty()) {
      const Shape* x = stack.back();
      stack.pop_back();
      if (!x->IsTuple()) {
        leaves.push_back(x);
        continue;
      }
      for (auto it = x->tuple_shapes.rbegin(); it != x->tuple_shapes.rend(); ++it) stack.push_back(&*it);
    }
    for (size_t i = 0; i < s.elements.size(); ++i) PJIT_RETURN_IF_ERROR(ValidateSharding(s.elements[i], *leaves[i], num_devices));
    return OkStatus();
  }
  if (shape.IsTuple()) {  // one sharding for every element
    for (const Shape& e : shape.tuple_shapes) PJIT_RETURN_IF_ERROR(ValidateSharding(s, e, num_devices));
    return OkStatus();
  }
  if (s.kind == HloSharding::Kind::kMaximal && num_devices > 0 && s.device >= num_devices)
    return InvalidArgument("sharding puts the array on device ", s.device, " of ", num_devices);
  if (!s.IsTiled()) return OkStatus();
  if (s.TiledRank() != shape.rank())
    return InvalidArgument("sharding ", s.ToString(), " tiles ", s.TiledRank(), " dimensions of ", shape.ToString(false));
  if (num_devices > 0) {
    for (int64_t d : s.tiles.Devices())
      if (d >= num_devices) return InvalidArgument("sharding ", s.ToString(), " names device ", d, " of ", num_devices);
  }
  return OkStatus();
}

}  // namespace pjit
