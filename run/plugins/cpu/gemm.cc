#include "run/plugins/cpu/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>

#include "format/parallel.h"

namespace pjit {
namespace {

template <typename T>
void Gemm(const GemmThunk& g, const T* a, const T* b, T* c, int64_t row0, int64_t rows) {
  int64_t lda = g.transpose_lhs ? g.m : g.k, ldb = g.transpose_rhs ? g.k : g.n, ldc = g.n;
  const T* a0 = g.transpose_lhs ? a + row0 : a + row0 * lda;
  T* c0 = c + row0 * ldc;
  auto ta = g.transpose_lhs ? CblasTrans : CblasNoTrans, tb = g.transpose_rhs ? CblasTrans : CblasNoTrans;
  int m = static_cast<int>(rows), n = static_cast<int>(g.n), k = static_cast<int>(g.k);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a0, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0f, c0, static_cast<int>(ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a0, static_cast<int>(lda), b, static_cast<int>(ldb), 0.0, c0, static_cast<int>(ldc));
}

template <typename T>
void RunTyped(const GemmThunk& g, const std::byte* lhs, const std::byte* rhs, std::byte* out, tbb::task_arena& cores) {
  for (int64_t batch = 0; batch < g.batch; ++batch) {
    const T* a = reinterpret_cast<const T*>(lhs) + batch * g.m * g.k;
    const T* b = reinterpret_cast<const T*>(rhs) + batch * g.k * g.n;
    T* c = reinterpret_cast<T*>(out) + batch * g.m * g.n;
    if (g.k == 0) {
      std::fill(c, c + g.m * g.n, T(0));
      continue;
    }
    if (g.m == 0 || g.n == 0) continue;
    // Split only products big enough to pay for the hand-off (about a million flops a part).
    int64_t parts = std::min<int64_t>(cores.max_concurrency(), std::max<int64_t>(1, g.m * g.n * g.k / (1 << 20)));
    parts = std::min(parts, g.m);
    if (parts <= 1) {
      Gemm(g, a, b, c, 0, g.m);
      continue;
    }
    ParallelParts(parts, &cores, [&](int64_t p) {
      int64_t lo = g.m * p / parts, hi = g.m * (p + 1) / parts;
      Gemm(g, a, b, c, lo, hi - lo);
    });
  }
}

}  // namespace

void InitGemm() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

void RunGemm(const GemmThunk& g, const std::byte* lhs, const std::byte* rhs, std::byte* out, tbb::task_arena& cores) {
  if (g.dtype == DType::kF64) RunTyped<double>(g, lhs, rhs, out, cores);
  else RunTyped<float>(g, lhs, rhs, out, cores);
}

}  // namespace pjit
