// Quantities as the tools print and read them: bytes in binary units, seconds in the unit
// that keeps three significant digits, sizes ("2GiB": --memory-limit) and the link model's
// flags ("25GB/s", "5us").
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

// Bytes from "2GiB", "512MiB", "64KiB", "1.5GB", "100MB", "4096B", "4096" (bytes); `flag`
// names the option in errors.
StatusOr<uint64_t> ParseBytes(std::string_view text, const char* flag);
// Bytes per second from "25GB/s", "100Gb/s" (bits), "800MB/s", "1.5e10" (bytes).
StatusOr<double> ParseBandwidth(std::string_view text);
// Seconds from "5us", "1.5ms", "200ns", "0.001s", "2e-6" (seconds).
StatusOr<double> ParseLatency(std::string_view text);

}  // namespace pjit
