#include "format/partition_spec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>
#include <numeric>
#include <set>

namespace pjit {
namespace {

bool IsAxisName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits at top-level commas (not inside parentheses).
std::vector<std::string_view> SplitTopLevel(std::string_view s) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')') --depth;
    if (s[i] == ',' && depth == 0) {
      out.push_back(Trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(Trim(s.substr(start)));
  return out;
}

int64_t AxisIndex(const Mesh& mesh, const std::string& name) {
  for (size_t i = 0; i < mesh.axes.size(); ++i)
    if (mesh.axes[i].name == name) return static_cast<int64_t>(i);
  return -1;
}

// The mesh's device array transposed by `perm` (an order of all mesh axes), row-major.
std::vector<int64_t> TransposedDevices(const Mesh& mesh, const std::vector<int64_t>& perm) {
  std::vector<int64_t> sizes;
  for (const MeshAxis& a : mesh.axes) sizes.push_back(a.size);
  IotaTileAssignment positions{{mesh.device_count()}, sizes, perm};
  std::vector<int64_t> order = positions.Expand();
  std::vector<int64_t> out;
  for (int64_t p : order) out.push_back(mesh.device_ids[p]);
  return out;
}

bool IsIotaMesh(const Mesh& mesh) {
  for (size_t i = 0; i < mesh.device_ids.size(); ++i)
    if (mesh.device_ids[i] != static_cast<int64_t>(i)) return false;
  return true;
}

// Replicated, or tiled with every array dim unsplit and only replication besides.
bool EffectivelyReplicated(const HloSharding& s) {
  if (s.kind == HloSharding::Kind::kReplicated) return true;
  if (!s.IsTiled() || !s.last_tile_dims.empty()) return false;
  for (int64_t i = 0; i < s.TiledRank(); ++i)
    if (s.tiles.dims[i] != 1) return false;
  return true;
}

}  // namespace

StatusOr<Mesh> ParseMesh(std::string_view text) {
  Mesh mesh;
  int64_t devices = 1;
  for (std::string_view part : SplitTopLevel(text)) {
    size_t eq = part.find('=');
    std::string_view name = eq == std::string_view::npos ? part : Trim(part.substr(0, eq));
    if (eq == std::string_view::npos || !IsAxisName(name))
      return InvalidArgument("--mesh '", text, "': expected NAME=SIZE[,NAME=SIZE...], e.g. data=2,model=4");
    std::string_view size_text = Trim(part.substr(eq + 1));
    int64_t size = 0;
    auto r = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (r.ec != std::errc() || r.ptr != size_text.data() + size_text.size() || size < 1 || size > kMaxMeshDevices)
      return InvalidArgument("--mesh '", text, "': axis '", name, "' needs a size in [1, 2^20], got '", size_text, "'");
    if (AxisIndex(mesh, std::string(name)) >= 0) return InvalidArgument("--mesh '", text, "': axis '", name, "' appears twice");
    devices *= size;
    if (devices > kMaxMeshDevices) return InvalidArgument("--mesh '", text, "': more than 2^20 devices");
    mesh.axes.push_back({std::string(name), size});
  }
  mesh.device_ids.resize(static_cast<size_t>(devices));
  std::iota(mesh.device_ids.begin(), mesh.device_ids.end(), 0);
  return mesh;
}

StatusOr<std::optional<Mesh>> MeshFromFrontendAttributes(std::string_view attributes) {
  if (attributes.find("xla.sdy.meshes") == std::string_view::npos) return std::optional<Mesh>();
  size_t start = attributes.find("#sdy.mesh<[");
  if (start == std::string_view::npos) return std::optional<Mesh>();
  size_t end = attributes.find(']', start);
  if (end == std::string_view::npos) return InvalidArgument("xla.sdy.meshes: unterminated mesh");
  // Axes: "name"=size pairs; the quotes may be written \".
  std::string axes;
  for (char c : attributes.substr(start + 11, end - start - 11))
    if (c != '"' && c != '\\') axes += c;
  std::string text;
  for (std::string_view part : SplitTopLevel(axes))
    if (!part.empty()) text += (text.empty() ? "" : ",") + std::string(part);
  if (text.empty()) return std::optional<Mesh>();  // a maximal mesh: no axes
  StatusOr<Mesh> mesh = ParseMesh(text);
  if (!mesh.ok()) return InvalidArgument("xla.sdy.meshes: ", mesh.status().message());
  size_t close = attributes.find('>', end);
  size_t ids = attributes.find("device_ids=[", end);
  if (ids != std::string_view::npos && ids < close) {
    size_t ids_end = attributes.find(']', ids);
    std::vector<int64_t> devices;
    for (std::string_view part : SplitTopLevel(attributes.substr(ids + 12, ids_end - ids - 12))) {
      int64_t d = 0;
      auto r = std::from_chars(part.data(), part.data() + part.size(), d);
      if (r.ec != std::errc() || d < 0) return InvalidArgument("xla.sdy.meshes: bad device id '", part, "'");
      devices.push_back(d);
    }
    std::vector<int64_t> sorted = devices;
    std::sort(sorted.begin(), sorted.end());
    if (devices.size() != mesh->device_ids.size() || sorted != mesh->device_ids)
      return InvalidArgument("xla.sdy.meshes: device_ids must list each of the ", mesh->device_ids.size(), " devices once");
    mesh->device_ids = std::move(devices);
  }
  return std::optional<Mesh>(std::move(*mesh));
}

std::string MeshToString(const Mesh& mesh) {
  std::string out;
  for (size_t i = 0; i < mesh.axes.size(); ++i) out += (i ? "," : "") + mesh.axes[i].name + "=" + std::to_string(mesh.axes[i].size);
  return out;
}

std::string PartitionSpec::ToString() const {
  std::string out;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ",";
    if (dims[i].empty()) {
      out += "_";
    } else if (dims[i].size() == 1) {
      out += dims[i][0];
    } else {
      out += "(";
      for (size_t k = 0; k < dims[i].size(); ++k) out += (k ? "," : "") + dims[i][k];
      out += ")";
    }
  }
  return out;
}

StatusOr<PartitionSpec> ParsePartitionSpec(std::string_view text) {
  PartitionSpec spec;
  if (Trim(text).empty()) return spec;
  for (std::string_view entry : SplitTopLevel(text)) {
    std::vector<std::string> axes;
    if (entry == "_" || entry == "None") {
      // not split
    } else if (entry.size() >= 2 && entry.front() == '(' && entry.back() == ')') {
      for (std::string_view axis : SplitTopLevel(entry.substr(1, entry.size() - 2))) {
        if (!IsAxisName(axis)) return InvalidArgument("PartitionSpec '", text, "': '", axis, "' is not an axis name");
        axes.emplace_back(axis);
      }
    } else if (IsAxisName(entry)) {
      axes.emplace_back(entry);
    } else {
      return InvalidArgument("PartitionSpec '", text, "': expected an axis name, '_' or '(a,b)', got '", entry, "'");
    }
    spec.dims.push_back(std::move(axes));
  }
  return spec;
}

StatusOr<HloSharding> PartitionSpecToSharding(const PartitionSpec& spec, const Mesh& mesh, int64_t rank) {
  if (static_cast<int64_t>(spec.dims.size()) > rank)
    return InvalidArgument("PartitionSpec '", spec.ToString(), "' has ", spec.dims.size(), " entries for an array of rank ", rank);
  std::vector<int64_t> tile_dims(static_cast<size_t>(rank), 1);
  std::vector<int64_t> perm;
  std::vector<bool> used(mesh.axes.size(), false);
  for (size_t d = 0; d < spec.dims.size(); ++d) {
    for (const std::string& name : spec.dims[d]) {
      int64_t a = AxisIndex(mesh, name);
      if (a < 0) return InvalidArgument("PartitionSpec '", spec.ToString(), "': the mesh (", MeshToString(mesh), ") has no axis '", name, "'");
      if (used[a]) return InvalidArgument("PartitionSpec '", spec.ToString(), "' uses axis '", name, "' twice");
      used[a] = true;
      perm.push_back(a);
      tile_dims[d] *= mesh.axes[a].size;
    }
  }
  int64_t replicated = 1;
  for (size_t a = 0; a < mesh.axes.size(); ++a)
    if (!used[a]) perm.push_back(static_cast<int64_t>(a)), replicated *= mesh.axes[a].size;
  if (std::all_of(tile_dims.begin(), tile_dims.end(), [](int64_t t) { return t == 1; })) return HloSharding::Replicated();
  if (replicated > 1) tile_dims.push_back(replicated);
  TileAssignment tiles;
  tiles.dims = tile_dims;
  if (IsIotaMesh(mesh)) {
    std::vector<int64_t> sizes;
    for (const MeshAxis& a : mesh.axes) sizes.push_back(a.size);
    tiles.iota = CanonicalIota({tile_dims, sizes, perm});
  } else {
    tiles.explicit_devices = TransposedDevices(mesh, perm);
  }
  return HloSharding::Tiled(std::move(tiles), replicated > 1);
}

StatusOr<PartitionSpec> ShardingToPartitionSpec(const HloSharding& sharding, const Mesh& mesh, int64_t rank) {
  if (EffectivelyReplicated(sharding)) return PartitionSpec{};
  if (!sharding.IsTiled() || !sharding.last_tile_dims.empty() || sharding.TiledRank() != rank)
    return NotFound("sharding ", sharding.ToString(), " is not a PartitionSpec on mesh ", MeshToString(mesh));
  // Assign to each dim an ordered set of unused axes whose sizes multiply to its tile count,
  // and keep the assignment whose sharding is this one (backtracking; meshes are small).
  PartitionSpec spec{std::vector<std::vector<std::string>>(static_cast<size_t>(rank))};
  std::vector<bool> used(mesh.axes.size(), false);
  std::optional<PartitionSpec> found;
  std::function<void(int64_t, int64_t)> assign = [&](int64_t dim, int64_t remaining) {
    if (found) return;
    if (dim == rank) {
      StatusOr<HloSharding> s = PartitionSpecToSharding(spec, mesh, rank);
      if (s.ok() && *s == sharding) found = spec;
      return;
    }
    if (remaining == 1) {
      assign(dim + 1, dim + 1 < rank ? sharding.tiles.dims[dim + 1] : 1);
      return;
    }
    for (size_t a = 0; a < mesh.axes.size(); ++a) {
      int64_t size = mesh.axes[a].size;
      if (used[a] || size == 1 || remaining % size != 0) continue;
      used[a] = true;
      spec.dims[dim].push_back(mesh.axes[a].name);
      assign(dim, remaining / size);
      spec.dims[dim].pop_back();
      used[a] = false;
    }
  };
  if (rank > 0) assign(0, sharding.tiles.dims[0]);
  if (!found) return NotFound("sharding ", sharding.ToString(), " is not a PartitionSpec on mesh ", MeshToString(mesh));
  // Trailing unsplit dims are left out, as JAX writes specs.
  while (!found->dims.empty() && found->dims.back().empty()) found->dims.pop_back();
  return *found;
}

}  // namespace pjit
