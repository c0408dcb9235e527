// What both LLVM back ends do with a module of kernels once it is emitted: LLVM's O3 pipeline
// for the target, then the target's code generator.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <llvm/Target/TargetMachine.h>

namespace pjit {

// `module` optimised at O3 for `tm`, given to `after_optimization` if any, and emitted as
// `type` (an object file, or assembly such as PTX); nullopt when the target cannot emit that
// kind of file.
std::optional<std::string> OptimizeAndEmit(llvm::Module& module, llvm::TargetMachine& tm, llvm::CodeGenFileType type,
                                           const std::function<void(llvm::Module&)>& after_optimization = {});

}  // namespace pjit
