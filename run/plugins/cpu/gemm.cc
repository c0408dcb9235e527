#include "run/plugins/cpu/gemm.h"

#include <cblas.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "format/float16.h"
#include "format/parallel.h"

namespace pjit {
namespace {

// C[row0:row0+rows, col0:col0+cols] of one product.
template <typename T>
void Gemm(const GemmThunk& g, const T* a, const T* b, T* c, int64_t row0, int64_t rows, int64_t col0, int64_t cols) {
  int64_t lda = g.transpose_lhs ? g.m : g.k, ldb = g.transpose_rhs ? g.k : g.n, ldc = g.n;
  const T* a0 = g.transpose_lhs ? a + row0 : a + row0 * lda;
  const T* b0 = g.transpose_rhs ? b + col0 * ldb : b + col0;
  T* c0 = c + row0 * ldc + col0;
  auto ta = g.transpose_lhs ? CblasTrans : CblasNoTrans, tb = g.transpose_rhs ? CblasTrans : CblasNoTrans;
  int m = static_cast<int>(rows), n = static_cast<int>(cols), k = static_cast<int>(g.k);
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a0, static_cast<int>(lda), b0, static_cast<int>(ldb), 0.0f, c0, static_cast<int>(ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a0, static_cast<int>(lda), b0, static_cast<int>(ldb), 0.0, c0, static_cast<int>(ldc));
}

// Product `batch` of a batched gemm, its rows or columns split into `parts` over `cores`.
template <typename T>
void RunProduct(const GemmThunk& g, const std::byte* lhs, const std::byte* rhs, std::byte* out, int64_t batch, int64_t parts,
                tbb::task_arena& cores) {
  const T* a = reinterpret_cast<const T*>(lhs) + batch * g.m * g.k;
  const T* b = reinterpret_cast<const T*>(rhs) + batch * g.k * g.n;
  T* c = reinterpret_cast<T*>(out) + batch * g.m * g.n;
  if (g.k == 0) {
    std::fill(c, c + g.m * g.n, T(0));
    return;
  }
  if (g.m == 0 || g.n == 0) return;
  // Each part packs the whole operand it does not split: split the longer of m and n so
  // that the smaller operand is the one packed twice (MLP layers: n = 2048 columns of the
  // weights vs m = 256 rows of activations).
  const bool by_columns = g.n > g.m;
  const int64_t extent = by_columns ? g.n : g.m;
  parts = std::min(parts, extent);
  if (parts <= 1) {
    Gemm(g, a, b, c, 0, g.m, 0, g.n);
    return;
  }
  ParallelParts(parts, &cores, [&](int64_t p) {
    int64_t lo = extent * p / parts, hi = extent * (p + 1) / parts;
    if (by_columns) Gemm(g, a, b, c, 0, g.m, lo, hi - lo);
    else Gemm(g, a, b, c, lo, hi - lo, 0, g.n);
  });
}

template <typename T>
void RunTyped(const GemmThunk& g, const std::byte* lhs, const std::byte* rhs, std::byte* out, tbb::task_arena& cores) {
  const int64_t cores_n = cores.max_concurrency();
  // Products independent of each other (attention's heads) split over the cores whole, with
  // nothing packed twice; else each product is split, when it is big enough to pay for the
  // hand-off (about a million flops a part).
  if (g.batch >= cores_n && cores_n > 1 && g.batch * g.m * g.n * g.k >= (int64_t{1} << 20)) {
    const int64_t parts = std::min(cores_n, g.batch);
    ParallelParts(parts, &cores, [&](int64_t p) {
      for (int64_t batch = g.batch * p / parts; batch < g.batch * (p + 1) / parts; ++batch) RunProduct<T>(g, lhs, rhs, out, batch, 1, cores);
    });
    return;
  }
  const int64_t parts = std::min<int64_t>(cores_n, std::max<int64_t>(1, g.m * g.n * g.k / (1 << 20)));
  for (int64_t batch = 0; batch < g.batch; ++batch) RunProduct<T>(g, lhs, rhs, out, batch, parts, cores);
}

// bfloat16 products: the operands widened to f32, f32 products (accumulating in f32, as XLA's
// CPU and GPU back ends do), each result rounded to bfloat16 once.
void RunBF16(const GemmThunk& g, const std::byte* lhs, const std::byte* rhs, std::byte* out, tbb::task_arena& cores) {
  auto widen = [](const std::byte* p, int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    const auto* h = reinterpret_cast<const BFloat16*>(p);
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(h[i]);
    return v;
  };
  const std::vector<float> a = widen(lhs, g.batch * g.m * g.k), b = widen(rhs, g.batch * g.k * g.n);
  std::vector<float> c(static_cast<size_t>(g.batch * g.m * g.n));
  RunTyped<float>(g, reinterpret_cast<const std::byte*>(a.data()), reinterpret_cast<const std::byte*>(b.data()),
                  reinterpret_cast<std::byte*>(c.data()), cores);
  auto* o = reinterpret_cast<BFloat16*>(out);
  for (size_t i = 0; i < c.size(); ++i) o[i] = BFloat16(c[i]);
}

}  // namespace

void InitGemm() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

void RunGemm(const GemmThunk& g, const std::byte* lhs, const std::byte* rhs, std::byte* out, tbb::task_arena& cores) {
  if (g.dtype == DType::kF64) RunTyped<double>(g, lhs, rhs, out, cores);
  else if (g.dtype == DType::kBF16) RunBF16(g, lhs, rhs, out, cores);
  else RunTyped<float>(g, lhs, rhs, out, cores);
}

}  // namespace pjit
