#include "compile/nvptx_codegen.h"

#include <algorithm>
#include <mutex>
#include <set>

#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicsNVPTX.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Linker/Linker.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>

#include "compile/llvm_pipeline.h"
#include "compile/loop_emitter.h"
#include "format/thunks.h"

namespace pjit {
namespace {

constexpr const char* kTriple = "nvptx64-nvidia-cuda";

void InitializeNvptx() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
}

const llvm::Target* NvptxTarget(std::string& error) { return llvm::TargetRegistry::lookupTarget(kTriple, error); }

int ArchNumber(const std::string& arch) { return std::atoi(arch.c_str() + 3); }

// The kernel the driver launches: thread t (block * threads per block + tid.x) runs launch row
// t / lanes of the loop kernel `rows`, inlined (whole warps share a row when lanes is 32).
void EmitEntry(llvm::Module& m, llvm::Function* rows, const std::string& name, int64_t lanes) {
  llvm::LLVMContext& ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  auto* type = llvm::FunctionType::get(b.getVoidTy(), {b.getPtrTy(), b.getInt64Ty()}, false);
  llvm::Function* k = llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, m);
  k->addFnAttr(llvm::Attribute::NoUnwind);
  auto* entry = llvm::BasicBlock::Create(ctx, "entry", k);
  auto* run = llvm::BasicBlock::Create(ctx, "run", k);
  auto* done = llvm::BasicBlock::Create(ctx, "done", k);
  b.SetInsertPoint(entry);
  auto sreg = [&](llvm::Intrinsic::ID id) { return b.CreateZExt(b.CreateIntrinsic(id, {}, {}), b.getInt64Ty()); };
  llvm::Value* thread = b.CreateAdd(b.CreateMul(sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x), sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x)),
                                 sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x));
  b.CreateCondBr(b.CreateICmpULT(thread, k->getArg(1)), run, done);
  b.SetInsertPoint(run);
  llvm::Value* row = lanes == 1 ? thread : b.CreateUDiv(thread, b.getInt64(static_cast<uint64_t>(lanes)));
  b.CreateCall(rows, {k->getArg(0), row, b.CreateAdd(row, b.getInt64(1))});
  b.CreateBr(done);
  b.SetInsertPoint(done);
  b.CreateRetVoid();
  m.getOrInsertNamedMetadata("nvvm.annotations")
      ->addOperand(llvm::MDNode::get(ctx, {llvm::ValueAsMetadata::get(k), llvm::MDString::get(ctx, "kernel"),
                                           llvm::ConstantAsMetadata::get(b.getInt32(1))}));
}

// libdevice's name for a math intrinsic or libm function the emitter calls, or "".
std::string LibdeviceName(const llvm::Function& f) {
  if (f.isIntrinsic()) {
    const char* base = nullptr;
    switch (f.getIntrinsicID()) {
      case llvm::Intrinsic::log: base = "log"; break;
      case llvm::Intrinsic::log2: base = "log2"; break;
      case llvm::Intrinsic::log10: base = "log10"; break;
      case llvm::Intrinsic::exp: base = "exp"; break;
      case llvm::Intrinsic::exp2: base = "exp2"; break;
      case llvm::Intrinsic::sin: base = "sin"; break;
      case llvm::Intrinsic::cos: base = "cos"; break;
      case llvm::Intrinsic::tan: base = "tan"; break;
      case llvm::Intrinsic::tanh: base = "tanh"; break;
      case llvm::Intrinsic::pow: base = "pow"; break;
      default: return "";
    }
    llvm::Type* t = f.getReturnType();
    if (t->isFloatTy()) return std::string("__nv_") + base + "f";
    if (t->isDoubleTy()) return std::string("__nv_") + base;
    return "";
  }
  static const std::set<std::string> kLibm = {"expm1", "expm1f", "log1p", "log1pf", "erf", "erff", "atan2", "atan2f", "cbrt", "cbrtf", "tan", "tanf"};
  if (f.isDeclaration() && kLibm.count(f.getName().str())) return "__nv_" + f.getName().str();
  return "";
}

// Calls to math with no PTX instruction become calls into libdevice, linked in when needed.
Status UseLibdevice(llvm::Module& m, const CudaToolkit& toolkit) {
  std::vector<llvm::Function*> math;
  for (llvm::Function& f : m)
    if (!LibdeviceName(f).empty() && !f.use_empty()) math.push_back(&f);
  if (math.empty()) return OkStatus();
  std::string names;
  for (llvm::Function* f : math) {
    std::string name = LibdeviceName(*f);
    names += (names.empty() ? "" : ", ") + name.substr(5);
    llvm::FunctionCallee callee = m.getOrInsertFunction(name, f->getFunctionType());
    f->replaceAllUsesWith(callee.getCallee());
    f->eraseFromParent();
  }
  if (toolkit.libdevice.empty())
    return Unimplemented("CUDA kernels calling ", names, " need the CUDA Toolkit's libdevice, which is not installed (set CUDA_HOME)");
  llvm::SMDiagnostic error;
  std::unique_ptr<llvm::Module> lib = llvm::parseIRFile(toolkit.libdevice, error, m.getContext());
  if (!lib) return IoError(toolkit.libdevice, ": not LLVM bitcode: ", error.getMessage().str());
  lib->setTargetTriple(kTriple);
  lib->setDataLayout(m.getDataLayout());
  if (llvm::Linker::linkModules(m, std::move(lib), llvm::Linker::Flags::LinkOnlyNeeded))
    return Internal("cannot link ", toolkit.libdevice, " into the CUDA kernels");
  return OkStatus();
}

StatusOr<std::string> CompilePtx(const std::vector<LoopFusion>& fusions, const std::string& arch, const CudaToolkit& toolkit) {
  std::string error;
  const llvm::Target* target = NvptxTarget(error);
  if (!target) return Internal("LLVM has no NVPTX target: ", error);
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(kTriple, arch, "", llvm::TargetOptions(), std::nullopt,
                                                                      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm) return Internal("LLVM cannot target ", arch);
  llvm::LLVMContext context;
  llvm::Module module("pjit_cuda_kernels", context);
  module.setTargetTriple(kTriple);
  module.setDataLayout(tm->createDataLayout());
  // libdevice asks whether denormals flush to zero; they do not (the CPU's results are IEEE).
  module.addModuleFlag(llvm::Module::Override, "nvvm-reflect-ftz", uint32_t{0});
  std::set<std::string> entries;
  for (const LoopFusion& f : fusions) {
    PJIT_RETURN_IF_ERROR(EmitLoopKernel(f, module, kGpuRowBlocking));
    llvm::Function* rows = module.getFunction(f.name);
    rows->setName(f.name + ".rows");
    rows->addFnAttr(llvm::Attribute::AlwaysInline);
    EmitEntry(module, rows, CudaKernelSymbol(f.name), LoopFusionLanes(f, kGpuRowBlocking));
    entries.insert(CudaKernelSymbol(f.name));
  }
  PJIT_RETURN_IF_ERROR(UseLibdevice(module, toolkit));
  for (llvm::Function& f : module)
    if (!f.isDeclaration() && !entries.count(f.getName().str())) f.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable& g : module.globals())
    if (!g.isDeclaration()) g.setLinkage(llvm::GlobalValue::InternalLinkage);
  std::string broken;
  llvm::raw_string_ostream why(broken);
  if (llvm::verifyModule(module, &why)) return Internal("the CUDA kernels' IR does not verify: ", broken);

  std::optional<std::string> ptx = OptimizeAndEmit(module, *tm, llvm::CodeGenFileType::AssemblyFile);
  if (!ptx) return Internal("LLVM cannot emit PTX for ", arch);
  return std::move(*ptx);
}

}  // namespace

StatusOr<std::vector<std::string>> ResolveCudaArchs(const std::vector<std::string>& archs) {
  InitializeNvptx();
  std::string error;
  const llvm::Target* target = NvptxTarget(error);
  if (!target) return Internal("LLVM has no NVPTX target: ", error);
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(kTriple, "sm_80", ""));
  std::vector<std::string> out;
  for (const std::string& a : archs) {
    bool named = a.size() > 3 && a.compare(0, 3, "sm_") == 0 && std::all_of(a.begin() + 3, a.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!named || !sti || !sti->isCPUStringValid(a))
      return InvalidArgument("--cuda-arch '", a, "': not a GPU architecture LLVM's NVPTX target knows (e.g. sm_80, sm_90)");
    out.push_back(a);
  }
  if (out.empty()) return InvalidArgument("--cuda-arch: no architecture given (e.g. sm_80,sm_90)");
  std::sort(out.begin(), out.end(), [](const std::string& x, const std::string& y) { return ArchNumber(x) < ArchNumber(y); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

uint64_t CudaKernelThreads(const LoopFusion& fusion) {
  return static_cast<uint64_t>(LoopFusionRows(fusion, kGpuRowBlocking) * LoopFusionLanes(fusion, kGpuRowBlocking));
}

StatusOr<CudaKernels> CompileCudaKernels(const std::vector<LoopFusion>& fusions, const CudaCodegenOptions& options,
                                         const CudaToolkit& toolkit) {
  PJIT_ASSIGN_OR_RETURN(std::vector<std::string> archs, ResolveCudaArchs(options.archs));
  CudaKernels out;
  PJIT_ASSIGN_OR_RETURN(out.ptx, CompilePtx(fusions, archs.front(), toolkit));
  for (const LoopFusion& f : fusions) out.threads.push_back(CudaKernelThreads(f));
  if (toolkit.ptxas.empty()) {
    out.warnings.push_back("no ptxas (CUDA Toolkit) found: the artifact carries PTX only, which the driver compiles when it loads it");
    return out;
  }
  for (const std::string& arch : archs) {
    PJIT_ASSIGN_OR_RETURN(std::string cubin, AssemblePtx(toolkit.ptxas, out.ptx, arch));
    out.cubins.emplace_back(arch, std::move(cubin));
  }
  return out;
}

}  // namespace pjit
