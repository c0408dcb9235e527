#include "compile/cpu_codegen.h"

#include <atomic>
#include <mutex>

#include <lld/Common/Driver.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/MC/MCSubtargetInfo.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include "compile/llvm_pipeline.h"
#include "compile/loop_emitter.h"
#include "format/file_util.h"
#include "format/parallel.h"

LLD_HAS_DRIVER(elf)

namespace pjit {
namespace {

constexpr size_t kKernelsPerModule = 16;
// LLVM's names of the extensions that decide whether code runs on a CPU, as GCC's
// __builtin_cpu_supports spells them too.
constexpr const char* kCheckedCpuFeatures[] = {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "avx", "avx2", "fma", "f16c",
                                               "bmi", "bmi2", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl",
                                               "avx512vnni", "avx512bf16", "avx512fp16"};
constexpr const char* kTriple = "x86_64-unknown-linux-gnu";

void InitializeLlvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
  });
}

StatusOr<std::unique_ptr<llvm::TargetMachine>> MakeTargetMachine(const std::string& cpu) {
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (!target) return Internal("LLVM has no x86-64 target: ", error);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(kTriple, cpu, "", options, llvm::Reloc::PIC_,
                                                                      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm) return Internal("LLVM cannot target CPU '", cpu, "'");
  return tm;
}

// One module of kernels, optimised (O3) and compiled to an object file or assembly.
StatusOr<std::string> CompileModule(const std::vector<LoopFusion>& fusions, size_t first, size_t last, const std::string& cpu,
                                    const CpuCodegenOptions& options, llvm::CodeGenFileType type = llvm::CodeGenFileType::ObjectFile) {
  llvm::LLVMContext context;
  auto module = std::make_unique<llvm::Module>("pjit_kernels_" + std::to_string(first), context);
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<llvm::TargetMachine> tm, MakeTargetMachine(cpu));
  module->setTargetTriple(kTriple);
  module->setDataLayout(tm->createDataLayout());
  for (size_t i = first; i < last; ++i) PJIT_RETURN_IF_ERROR(EmitLoopKernel(fusions[i], *module, options.blocking, options.stream_bytes));

  std::optional<std::string> object = OptimizeAndEmit(*module, *tm, type, MarkStreamedStores);
  if (!object) return Internal("LLVM cannot emit code for CPU '", cpu, "'");
  return std::move(*object);
}

// lld keeps global state: one link at a time in the process.
std::mutex lld_mutex;

StatusOr<std::string> Link(const std::vector<std::string>& objects) {
  PJIT_ASSIGN_OR_RETURN(TemporaryDirectory dir, TemporaryDirectory::Create("link"));
  std::vector<std::string> paths;
  for (size_t i = 0; i < objects.size(); ++i) {
    paths.push_back(dir.Path("k" + std::to_string(i) + ".o"));
    PJIT_RETURN_IF_ERROR(WriteFileAtomically(paths.back(), objects[i]));
  }
  std::string out = dir.Path("kernels.so");
  std::vector<const char*> args = {"ld.lld", "-shared", "--hash-style=gnu", "-z", "noexecstack", "-o", out.c_str()};
  for (const std::string& p : paths) args.push_back(p.c_str());
  std::string messages;
  llvm::raw_string_ostream diagnostics(messages);
  std::lock_guard<std::mutex> lock(lld_mutex);
  lld::Result r = lld::lldMain(args, diagnostics, diagnostics, {{lld::Gnu, &lld::elf::link}});
  if (r.retCode != 0) return Internal("lld failed to link the kernels: ", messages);
  return ReadFileToString(out);
}

}  // namespace

StatusOr<std::string> ResolveCpu(const std::string& cpu) {
  InitializeLlvm();
  std::string name = cpu == "native" ? std::string(llvm::sys::getHostCPUName()) : cpu;
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (!target) return Internal("LLVM has no x86-64 target: ", error);
  // A subtarget of the generic CPU answers whether `name` is valid; one made for an unknown
  // name would print LLVM's own warning (twice) first.
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target->createMCSubtargetInfo(kTriple, "", ""));
  if (!sti || !sti->isCPUStringValid(name))
    return InvalidArgument("--cpu '", cpu, "': not a CPU LLVM knows (try native, x86-64, x86-64-v3, x86-64-v4 or a model such as skylake-avx512)");
  return name;
}

std::vector<std::string> CpuFeatures(const std::string& cpu) {
  InitializeLlvm();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(kTriple, error);
  std::unique_ptr<llvm::MCSubtargetInfo> sti(target ? target->createMCSubtargetInfo(kTriple, cpu, "") : nullptr);
  std::vector<std::string> out;
  if (!sti) return out;
  for (const char* f : kCheckedCpuFeatures)
    if (sti->checkFeatures(std::string("+") + f)) out.push_back(f);
  return out;
}

StatusOr<std::string> CompileLoopKernels(const std::vector<LoopFusion>& fusions, const CpuCodegenOptions& options,
                                         const std::function<void(int64_t done, int64_t total)>& kernels_done) {
  PJIT_ASSIGN_OR_RETURN(std::string cpu, ResolveCpu(options.cpu));
  size_t modules = (fusions.size() + kKernelsPerModule - 1) / kKernelsPerModule;
  std::vector<StatusOr<std::string>> objects(modules, StatusOr<std::string>(std::string()));
  std::atomic<int64_t> done{0};
  ParallelParts(static_cast<int64_t>(modules), nullptr, [&](int64_t part) {
    size_t m = static_cast<size_t>(part), first = m * kKernelsPerModule, last = std::min(fusions.size(), first + kKernelsPerModule);
    objects[m] = CompileModule(fusions, first, last, cpu, options);
    int64_t now = done += static_cast<int64_t>(last - first);
    if (kernels_done) kernels_done(now, static_cast<int64_t>(fusions.size()));
  });
  std::vector<std::string> bytes;
  for (StatusOr<std::string>& o : objects) {
    if (!o.ok()) return o.status();
    bytes.push_back(std::move(*o));
  }
  return Link(bytes);
}

StatusOr<std::string> LoopKernelsAssembly(const std::vector<LoopFusion>& fusions, const CpuCodegenOptions& options) {
  PJIT_ASSIGN_OR_RETURN(std::string cpu, ResolveCpu(options.cpu));
  return CompileModule(fusions, 0, fusions.size(), cpu, options, llvm::CodeGenFileType::AssemblyFile);
}

}  // namespace pjit
