// The CUDA Toolkit's pieces the CUDA back end uses at compile time: libdevice (the bitcode
// math library kernels link against) and ptxas (PTX to cubin). pjit-compile runs without the
// toolkit; then kernels that need libdevice fail to compile for CUDA with a message that says
// so, and artifacts carry PTX only, which the driver compiles when it loads them.
#pragma once

#include <string>

#include "format/status.h"

namespace pjit {

struct CudaToolkit {
  std::string root;       // empty: not found
  std::string libdevice;  // nvvm/libdevice/libdevice.10.bc, or empty
  std::string ptxas;      // bin/ptxas, or empty
};

// The first of $CUDA_HOME, $CUDA_PATH, the toolkit CMake found when pjit was built, and
// /usr/local/cuda that holds bin/ptxas or libdevice.
CudaToolkit FindCudaToolkit();

// ptxas -arch=`arch` -O3 over `ptx`: the cubin, or ptxas's own messages as the error.
StatusOr<std::string> AssemblePtx(const std::string& ptxas, const std::string& ptx, const std::string& arch);

}  // namespace pjit
