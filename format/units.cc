#include "format/units.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace pjit {
namespace {

std::string Fixed(double v, const char* unit) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, unit);
  return buf;
}

// The non-negative number at the front of `text` and the unit after it.
StatusOr<std::pair<double, std::string_view>> NumberAndUnit(std::string_view text, const char* what) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || !std::isfinite(v) || v < 0)
    return InvalidArgument(what, " '", text, "': expected a number with a unit");
  return std::pair{v, text.substr(static_cast<size_t>(end - s.c_str()))};
}

StatusOr<double> Scaled(std::string_view text, const char* what, const std::vector<std::pair<std::string_view, double>>& units,
                        const char* expected) {
  PJIT_ASSIGN_OR_RETURN(auto vu, NumberAndUnit(text, what));
  for (const auto& [unit, scale] : units)
    if (vu.second == unit) return vu.first * scale;
  return InvalidArgument(what, " '", text, "': unknown unit '", vu.second, "' (", expected, ")");
}

}  // namespace

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024;
  for (const char* unit : {"KiB", "MiB", "GiB"}) {
    if (v < 1024 || unit[0] == 'G') return Fixed(v, unit);
    v /= 1024;
  }
  return Fixed(v, "GiB");
}

std::string FormatSeconds(double seconds) {
  if (seconds == 0) return "0 s";
  if (seconds < 1e-6) return Fixed(seconds * 1e9, "ns");
  if (seconds < 1e-3) return Fixed(seconds * 1e6, "us");
  if (seconds < 1) return Fixed(seconds * 1e3, "ms");
  return Fixed(seconds, "s");
}

std::string Plural(int64_t n, const std::string& noun) { return std::to_string(n) + " " + noun + (n == 1 ? "" : "s"); }

StatusOr<uint64_t> ParseBytes(std::string_view text, const char* flag) {
  PJIT_ASSIGN_OR_RETURN(double v, Scaled(text, flag,
                {{"", 1}, {"B", 1}, {"KiB", 1024.0}, {"MiB", 1024.0 * 1024}, {"GiB", 1024.0 * 1024 * 1024},
                 {"TiB", 1024.0 * 1024 * 1024 * 1024}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}},
                "B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB"));
  if (v >= 18e18) return InvalidArgument(flag, " '", text, "': too large");
  return static_cast<uint64_t>(v);
}

StatusOr<double> ParseBandwidth(std::string_view text) {
  PJIT_ASSIGN_OR_RETURN(double v, Scaled(text, "--link-bandwidth",
                {{"", 1}, {"B/s", 1}, {"KB/s", 1e3}, {"MB/s", 1e6}, {"GB/s", 1e9}, {"TB/s", 1e12}, {"Mb/s", 1e6 / 8},
                 {"Gb/s", 1e9 / 8}, {"Tb/s", 1e12 / 8}},
                "B/s, KB/s, MB/s, GB/s, TB/s, or Mb/s, Gb/s, Tb/s for bits"));
  if (v == 0) return InvalidArgument("--link-bandwidth '", text, "': must be more than zero");
  return v;
}

StatusOr<double> ParseLatency(std::string_view text) {
  return Scaled(text, "--link-latency", {{"", 1}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}}, "s, ms, us or ns");
}

}  // namespace pjit
