// Quantities as pjit-inspect prints and reads them: bytes in binary units, seconds in the
// unit that keeps three significant digits, and the link model's flags ("25GB/s", "5us").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "format/status.h"

namespace pjit {

// "512 B", "12.0 KiB", "3.50 MiB".
std::string FormatBytes(uint64_t bytes);
// "850 ns", "12.3 us", "4.56 ms", "1.20 s".
std::string FormatSeconds(double seconds);

// "1 step", "3 steps".
std::string Plural(int64_t n, const std::string& noun);

// Bytes per second from "25GB/s", "100Gb/s" (bits), "800MB/s", "1.5e10" (bytes).
StatusOr<double> ParseBandwidth(std::string_view text);
// Seconds from "5us", "1.5ms", "200ns", "0.001s", "2e-6" (seconds).
StatusOr<double> ParseLatency(std::string_view text);

}  // namespace pjit
