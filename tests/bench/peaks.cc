// The machine's ceilings for the benchmark table: OpenBLAS sgemm 2048^3 called directly (the
// peer of case 5) and a STREAM triad a[i] = b[i] + s*c[i] over 3 x 64 MiB arrays (the
// memory-bandwidth ceiling of cases 3 and 4), on `threads` threads. Prints one line each,
// the median of `repeat` runs (the statistic pjit-run's times are quoted by):
//   sgemm_ms <median>      triad_gbs <median>
// With `triad` as the third argument only the triad runs: run.sh measures it beside each
// memory-bound case, as this shared machine's bandwidth moves by half within minutes.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Sgemm(int threads, int repeat) {
  openblas_set_num_threads(threads);
  const int n = 2048;
  std::vector<float> a(static_cast<size_t>(n) * n, 0.5f), b(a.size(), 0.25f), c(a.size());
  std::vector<double> times;
  for (int r = 0; r < repeat + 1; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n);
    if (r) times.push_back(Seconds(t0));  // the first run warms up
  }
  std::printf("sgemm_ms %.3f\n", Median(times) * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : static_cast<int>(std::thread::hardware_concurrency());
  int repeat = argc > 2 ? std::atoi(argv[2]) : 10;
  const bool triad_only = argc > 3 && std::string(argv[3]) == "triad";
  if (!triad_only) Sgemm(threads, repeat);

  const size_t m = size_t{16} << 20;  // floats per array: 64 MiB
  std::vector<float> x(m, 1.0f), y(m, 2.0f), z(m, 0.0f);
  std::vector<double> rates;
  for (int r = 0; r < repeat + 1; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        size_t begin = m * static_cast<size_t>(t) / static_cast<size_t>(threads);
        size_t end = m * static_cast<size_t>(t + 1) / static_cast<size_t>(threads);
        for (size_t i = begin; i < end; ++i) z[i] = x[i] + 3.0f * y[i];
      });
    for (std::thread& p : pool) p.join();
    if (r) rates.push_back(3.0 * m * sizeof(float) / Seconds(t0) / 1e9);  // the first run warms up
  }
  std::printf("triad_gbs %.2f\n", Median(rates));
  return z[12345] == 7.0f ? 0 : 1;
}
