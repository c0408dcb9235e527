// The GPU's ceilings for tests/bench/cuda.sh: cuBLAS N^3 products called directly as the cuda
// platform calls them — sgemm (f32, default math mode) and a bfloat16 GemmEx accumulating in
// f32 — in ms, a device-to-device copy's bandwidth in GB/s (read + write), and host-to-device
// and device-to-host copies of 256 MiB from pageable (malloc) and pinned (cudaMallocHost)
// memory in GB/s, each the median of REPEAT timed runs after a warm-up.
//
//   pjit_cuda_peaks [N=4096] [REPEAT=10]
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace {

void Check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  std::fprintf(stderr, "pjit_cuda_peaks: %s: %s\n", what, cudaGetErrorString(e));
  std::exit(1);
}

void Check(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  std::fprintf(stderr, "pjit_cuda_peaks: %s: %s\n", what, cublasGetStatusString(s));
  std::exit(1);
}

template <typename F>
double MedianMs(int repeat, F&& run) {
  cudaEvent_t start, stop;
  Check(cudaEventCreate(&start), "cudaEventCreate");
  Check(cudaEventCreate(&stop), "cudaEventCreate");
  run();
  std::vector<double> ms;
  for (int r = 0; r < repeat; ++r) {
    Check(cudaEventRecord(start), "cudaEventRecord");
    run();
    Check(cudaEventRecord(stop), "cudaEventRecord");
    Check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float t = 0;
    Check(cudaEventElapsedTime(&t, start, stop), "cudaEventElapsedTime");
    ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 4096;
  const int repeat = argc > 2 ? std::atoi(argv[2]) : 10;
  cudaDeviceProp prop{};
  Check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  std::printf("gpu %s\n", prop.name);
  const size_t elements = static_cast<size_t>(n) * n;
  float *a, *b, *c;
  Check(cudaMalloc(&a, elements * sizeof(float)), "cudaMalloc");
  Check(cudaMalloc(&b, elements * sizeof(float)), "cudaMalloc");
  Check(cudaMalloc(&c, elements * sizeof(float)), "cudaMalloc");
  Check(cudaMemset(a, 0, elements * sizeof(float)), "cudaMemset");
  Check(cudaMemset(b, 0, elements * sizeof(float)), "cudaMemset");
  cublasHandle_t blas;
  Check(cublasCreate(&blas), "cublasCreate");
  const float one = 1, zero = 0;
  double sgemm = MedianMs(repeat, [&] {
    Check(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, n, b, n, &zero, c, n), "cublasSgemm");
  });
  std::printf("sgemm_ms %.3f\n", sgemm);
  double bf16gemm = MedianMs(repeat, [&] {  // the f32 buffers hold the bfloat16 operands (half their bytes)
    Check(cublasGemmEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, CUDA_R_16BF, n, b, CUDA_R_16BF, n, &zero, c, CUDA_R_16BF, n,
                       CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx");
  });
  std::printf("bf16gemm_ms %.3f\n", bf16gemm);
  const size_t bytes = size_t{1} << 30;
  void *src, *dst;
  Check(cudaMalloc(&src, bytes), "cudaMalloc");
  Check(cudaMalloc(&dst, bytes), "cudaMalloc");
  double copy = MedianMs(repeat, [&] { Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpyAsync"); });
  std::printf("copy_gbs %.1f\n", 2.0 * static_cast<double>(bytes) / (copy * 1e6));
  const size_t host_bytes = size_t{256} << 20;
  std::vector<char> pageable(host_bytes, 1);
  void* pinned;
  Check(cudaMallocHost(&pinned, host_bytes), "cudaMallocHost");
  for (auto [name, host] : {std::pair<const char*, void*>{"pageable", pageable.data()}, {"pinned", pinned}}) {
    double up = MedianMs(repeat, [&] { Check(cudaMemcpy(dst, host, host_bytes, cudaMemcpyHostToDevice), "cudaMemcpy"); });
    double down = MedianMs(repeat, [&] { Check(cudaMemcpy(host, dst, host_bytes, cudaMemcpyDeviceToHost), "cudaMemcpy"); });
    std::printf("h2d_%s_gbs %.1f\nd2h_%s_gbs %.1f\n", name, static_cast<double>(host_bytes) / (up * 1e6), name,
                static_cast<double>(host_bytes) / (down * 1e6));
  }
  return 0;
}
