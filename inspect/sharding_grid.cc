#include "inspect/sharding_grid.h"

#include <algorithm>
#include <map>

namespace pjit {
namespace {

// "0-3,6,8-9": runs of three or more consecutive ids shortened.
std::string DeviceList(const std::vector<int64_t>& devices) {
  std::string out;
  for (size_t i = 0; i < devices.size();) {
    size_t j = i;
    while (j + 1 < devices.size() && devices[j + 1] == devices[j] + 1) ++j;
    if (!out.empty()) out += ',';
    if (j - i >= 2) {
      out += std::to_string(devices[i]) + "-" + std::to_string(devices[j]);
    } else {
      for (size_t k = i; k <= j; ++k) out += (k > i ? "," : "") + std::to_string(devices[k]);
    }
    i = j + 1;
  }
  return out;
}

ShardingLayout Whole(const std::string& name, const Shape& shape, const std::string& text, std::vector<int64_t> devices) {
  ShardingLayout l{name, shape, text, false, std::vector<int64_t>(shape.dims.size(), 1), {}};
  ShardingTile t;
  for (int64_t n : shape.dims) t.ranges.emplace_back(0, n);
  std::sort(devices.begin(), devices.end());
  t.devices = std::move(devices);
  l.tiles.push_back(std::move(t));
  return l;
}

StatusOr<ShardingLayout> ArrayLayout(const std::string& name, const Shape& shape, const std::optional<HloSharding>& s,
                                     const Mesh& mesh) {
  if (!s || s->kind == HloSharding::Kind::kReplicated) return Whole(name, shape, "{replicated}", mesh.device_ids);
  switch (s->kind) {
    case HloSharding::Kind::kMaximal:
      return Whole(name, shape, s->ToString(), {s->device});
    case HloSharding::Kind::kManual:
    case HloSharding::Kind::kUnknown: {
      ShardingLayout l = Whole(name, shape, s->ToString(), mesh.device_ids);
      l.manual = true;
      return l;
    }
    case HloSharding::Kind::kTiled:
      break;
    default:
      return InvalidArgument(name, ": sharding ", s->ToString(), " does not fit the array shape ", shape.ToString(false));
  }
  const int64_t rank = shape.rank();
  if (s->TiledRank() != rank)
    return InvalidArgument(name, ": sharding ", s->ToString(), " tiles ", s->TiledRank(), " dims of a rank-", rank, " array");
  ShardingLayout l;
  l.name = name;
  l.shape = shape;
  l.sharding = s->ToString();
  l.manual = std::count(s->last_tile_dims.begin(), s->last_tile_dims.end(), SubgroupKind::kManual) > 0;
  l.tiles_per_dim.assign(s->tiles.dims.begin(), s->tiles.dims.begin() + rank);
  int64_t num_tiles = 1, per_tile = 1;
  for (int64_t k : l.tiles_per_dim) num_tiles *= k;
  for (size_t i = static_cast<size_t>(rank); i < s->tiles.dims.size(); ++i) per_tile *= s->tiles.dims[i];
  l.tiles.resize(static_cast<size_t>(num_tiles));
  for (int64_t t = 0; t < num_tiles; ++t) {
    ShardingTile& tile = l.tiles[static_cast<size_t>(t)];
    tile.ranges.resize(static_cast<size_t>(rank));
    int64_t rest = t;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t k = l.tiles_per_dim[d], n = shape.dims[d], size = (n + k - 1) / k, i = rest % k;
      rest /= k;
      tile.ranges[d] = {std::min(n, i * size), std::min(n, (i + 1) * size)};
    }
  }
  std::vector<int64_t> devices = s->tiles.Devices();
  for (size_t p = 0; p < devices.size(); ++p) l.tiles[p / static_cast<size_t>(per_tile)].devices.push_back(devices[p]);
  for (ShardingTile& tile : l.tiles) std::sort(tile.devices.begin(), tile.devices.end());
  return l;
}

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string Centered(const std::string& s, size_t width) {
  size_t left = (width - s.size()) / 2;
  return std::string(left, ' ') + s + std::string(width - s.size() - left, ' ');
}

std::string SplitText(const ShardingLayout& l, int64_t d) {
  int64_t k = l.tiles_per_dim[d], n = l.shape.dims[d];
  return "dim " + std::to_string(d) + " in " + std::to_string(k) + " tiles of " + std::to_string((n + k - 1) / k);
}

}  // namespace

StatusOr<std::vector<ShardingLayout>> LayoutsOf(const std::string& name, const Shape& shape,
                                                const std::optional<HloSharding>& sharding, const Mesh& mesh) {
  std::vector<ShardingLayout> out;
  if (!shape.IsTuple()) {
    PJIT_ASSIGN_OR_RETURN(ShardingLayout l, ArrayLayout(name, shape, sharding, mesh));
    out.push_back(std::move(l));
    return out;
  }
  std::vector<const Shape*> leaves = LeafShapes(shape);
  for (size_t i = 0; i < leaves.size(); ++i) {
    std::optional<HloSharding> s;
    if (sharding) s = sharding->kind == HloSharding::Kind::kTuple ? sharding->elements.at(i) : *sharding;
    PJIT_ASSIGN_OR_RETURN(ShardingLayout l, ArrayLayout(name + "{" + std::to_string(i) + "}", *leaves[i], s, mesh));
    out.push_back(std::move(l));
  }
  return out;
}

std::string DrawShardingGrid(const ShardingLayout& l, const GridStyle& style) {
  std::string out = l.name + "  " + l.shape.ToString(false) + "  " + l.sharding + "\n";
  // Rows split the first split dim, columns the others (flattened row-major); when only the
  // last dim is split the grid is one row, as JAX draws vectors.
  std::vector<int64_t> split;
  for (size_t d = 0; d < l.tiles_per_dim.size(); ++d)
    if (l.tiles_per_dim[d] > 1) split.push_back(static_cast<int64_t>(d));
  std::vector<int64_t> row_dims, col_dims;
  if (split.size() == 1 && split[0] == l.shape.rank() - 1) {
    col_dims = split;
  } else if (!split.empty()) {
    row_dims = {split[0]};
    col_dims.assign(split.begin() + 1, split.end());
  }
  auto describe = [&](const std::vector<int64_t>& dims) {
    std::string s;
    for (int64_t d : dims) s += (s.empty() ? "" : " × ") + SplitText(l, d);
    return s;
  };
  if (split.empty()) out += l.tiles[0].devices.size() > 1 ? "  not split: every device holds all of it" : "  not split";
  if (!row_dims.empty()) out += "  rows: " + describe(row_dims);
  if (!col_dims.empty()) out += std::string(row_dims.empty() ? "" : ";") + "  columns: " + describe(col_dims);
  if (l.manual) out += "  (manual: devices hold what the program puts there)";
  out += "\n";

  int64_t rows = 1, cols = 1;
  for (int64_t d : row_dims) rows *= l.tiles_per_dim[d];
  for (int64_t d : col_dims) cols *= l.tiles_per_dim[d];
  // The tile at (row, col): its coordinate on every dim, then its row-major index.
  auto tile_at = [&](int64_t r, int64_t c) {
    std::vector<int64_t> coord(l.tiles_per_dim.size(), 0);
    for (auto it = col_dims.rbegin(); it != col_dims.rend(); ++it) {
      coord[*it] = c % l.tiles_per_dim[*it];
      c /= l.tiles_per_dim[*it];
    }
    if (!row_dims.empty()) coord[row_dims[0]] = r;
    int64_t index = 0;
    for (size_t d = 0; d < coord.size(); ++d) index = index * l.tiles_per_dim[d] + coord[d];
    return &l.tiles[static_cast<size_t>(index)];
  };
  std::map<std::vector<int64_t>, size_t> colours;
  size_t width = 5;
  for (const ShardingTile& t : l.tiles) {
    width = std::max(width, DeviceList(t.devices).size() + 2);
    colours.emplace(t.devices, colours.size());
  }
  const char* h = style.ascii ? "-" : "─";
  const char* v = style.ascii ? "|" : "│";
  auto rule = [&](const char* left, const char* mid, const char* right) {
    std::string line = left;
    for (int64_t c = 0; c < cols; ++c) line += Repeat(h, width) + (c + 1 < cols ? mid : right);
    return line + "\n";
  };
  out += style.ascii ? rule("+", "+", "+") : rule("┌", "┬", "┐");
  static const int kPalette[] = {153, 180, 151, 217, 223, 189, 152, 230, 181, 194, 225, 159, 229, 183, 158, 216};
  for (int64_t r = 0; r < rows; ++r) {
    std::string line = v;
    for (int64_t c = 0; c < cols; ++c) {
      const ShardingTile* t = tile_at(r, c);
      std::string cell = Centered(DeviceList(t->devices), width);
      if (style.color) {
        int colour = kPalette[colours.at(t->devices) % (sizeof kPalette / sizeof kPalette[0])];
        cell = "\x1b[38;5;16;48;5;" + std::to_string(colour) + "m" + cell + "\x1b[0m";
      }
      line += cell + v;
    }
    out += line + "\n";
    if (r + 1 < rows) out += style.ascii ? rule("+", "+", "+") : rule("├", "┼", "┤");
  }
  out += style.ascii ? rule("+", "+", "+") : rule("└", "┴", "┘");
  return out;
}

void ShardingLayoutJson(const ShardingLayout& l, JsonWriter& j) {
  j.BeginObject().Key("name").String(l.name).Key("shape").String(l.shape.ToString(false)).Key("sharding").String(l.sharding);
  j.Key("manual").Bool(l.manual).Key("tiles_per_dim").BeginArray();
  for (int64_t k : l.tiles_per_dim) j.Int(k);
  j.EndArray().Key("tiles").BeginArray();
  for (const ShardingTile& t : l.tiles) {
    j.BeginObject().Key("begin").BeginArray();
    for (const auto& r : t.ranges) j.Int(r.first);
    j.EndArray().Key("end").BeginArray();
    for (const auto& r : t.ranges) j.Int(r.second);
    j.EndArray().Key("devices").BeginArray();
    for (int64_t d : t.devices) j.Int(d);
    j.EndArray().EndObject();
  }
  j.EndArray().EndObject();
}

}  // namespace pjit
