// A named device mesh: axes with sizes, and the device id at each position (row-major).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pjit {

// The most devices a mesh may have, checked where a device count is read (--mesh,
// num_partitions, tile assignments, replica groups, the artifact's mesh section); it also
// keeps products of device counts from overflowing.
inline constexpr int64_t kMaxMeshDevices = int64_t{1} << 20;

struct MeshAxis {
  std::string name;
  int64_t size = 1;
  bool operator==(const MeshAxis&) const = default;
};

struct Mesh {
  std::vector<MeshAxis> axes;
  std::vector<int64_t> device_ids;  // product of the axis sizes entries

  // A 1-D mesh of n devices with ids 0..n-1.
  static Mesh Linear(int64_t n, std::string axis = "x") {
    Mesh m;
    m.axes.push_back({std::move(axis), n});
    for (int64_t i = 0; i < n; ++i) m.device_ids.push_back(i);
    return m;
  }
  int64_t device_count() const { return static_cast<int64_t>(device_ids.size()); }
  bool operator==(const Mesh&) const = default;
};

}  // namespace pjit
