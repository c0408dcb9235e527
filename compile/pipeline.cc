#include "compile/pipeline.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <set>

#include "compile/algebraic_simplifier.h"
#include "compile/call_inliner.h"
#include "compile/common_subexpressions.h"
#include "compile/constant_folding.h"
#include "compile/convolution_to_dot.h"
#include "compile/layout_normalization.h"
#include "compile/cpu_codegen.h"
#include "compile/dead_code_elimination.h"
#include "compile/kernel_fusion.h"
#include "compile/nvptx_codegen.h"
#include "compile/sharding_propagation.h"
#include "compile/spmd_partitioner.h"
#include "compile/thunk_lowering.h"
#include "format/artifact_writer.h"
#include "format/content_hash.h"
#include "format/hlo_parser.h"
#include "format/partition_spec.h"
#include "format/plan_memory.h"
#include "format/units.h"
#include "format/verifier.h"

namespace pjit {
namespace {

StatusOr<Mesh> ChooseMesh(const CompileOptions& options, const Module& module) {
  if (!options.mesh.empty()) return ParseMesh(options.mesh);
  if (const std::string* attributes = module.FindAttribute("frontend_attributes")) {
    StatusOr<std::optional<Mesh>> sdy = MeshFromFrontendAttributes(*attributes);
    if (!sdy.ok()) return InvalidArgument(options.input, ": ", sdy.status().message());
    if (*sdy) return **sdy;
  }
  return Mesh::Linear(DevicesImplied(module));
}

// Splits "KEY=SPEC" at the first '='.
StatusOr<std::pair<std::string, std::string>> KeyAndSpec(const std::string& flag, const char* name) {
  size_t eq = flag.find('=');
  if (eq == std::string::npos || eq == 0)
    return InvalidArgument("--", name, " '", flag, "': expected INDEX=SPEC or NAME=SPEC, e.g. 0=data,_");
  return std::pair{flag.substr(0, eq), flag.substr(eq + 1)};
}

// "7" → 7; nullopt for anything else, a number too large for an index included.
std::optional<size_t> ParseIndex(const std::string& text) {
  size_t i = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return i;
}

// Sets `in`'s sharding from `flag`; `given` holds what flags of this kind set already (one
// flag of each kind per instruction; an --out-sharding may override an --in-sharding where a
// result is a parameter).
Status SetFromCommandLine(Instruction& in, HloSharding s, const std::string& flag, std::set<const Instruction*>& given,
                          std::vector<std::string>& warnings) {
  if (!given.insert(&in).second)
    return InvalidArgument(flag, ": ", in.name, " is given a sharding twice (also by ", in.sharding_provenance.rule, ")");
  if (in.sharding && !(*in.sharding == s)) {
    const bool by_flag = in.sharding_provenance.origin == ShardingProvenance::Origin::kCommandLine;
    warnings.push_back(StrCat(in.location, ": ", in.name, ": ", flag, " gives ", s.ToString(), ", overriding ",
                              by_flag ? in.sharding_provenance.rule : std::string("the annotation"), " ", in.sharding->ToString()));
  }
  in.sharding = std::move(s);
  in.sharding_provenance = {ShardingProvenance::Origin::kCommandLine, "", -1, flag, 0, 0};
  return OkStatus();
}

Status ApplyCommandLineShardings(const CompileOptions& options, Module& module, const Mesh& mesh,
                                 std::vector<std::string>& warnings) {
  Computation& entry = *module.entry;
  std::set<const Instruction*> given;
  for (const std::string& flag : options.in_shardings) {
    PJIT_ASSIGN_OR_RETURN(auto kv, KeyAndSpec(flag, "in-sharding"));
    Instruction* param = nullptr;
    if (kv.first.find_first_not_of("0123456789") == std::string::npos) {
      std::optional<size_t> i = ParseIndex(kv.first);
      if (i && *i < entry.parameters.size()) param = entry.parameters[*i];
    } else {
      for (Instruction* p : entry.parameters)
        if (p->name == kv.first) param = p;
    }
    if (!param) return InvalidArgument("--in-sharding ", flag, ": '", module.name, "' has no parameter '", kv.first, "' (it takes ", entry.parameters.size(), ")");
    PJIT_ASSIGN_OR_RETURN(PartitionSpec spec, ParsePartitionSpec(kv.second));
    StatusOr<HloSharding> s = PartitionSpecToSharding(spec, mesh, param->shape.rank());
    if (!s.ok()) return InvalidArgument("--in-sharding ", flag, ": ", s.status().message());
    PJIT_RETURN_IF_ERROR(SetFromCommandLine(*param, *s, "--in-sharding " + flag, given, warnings));
  }
  Instruction* root = entry.root;
  given.clear();
  for (const std::string& flag : options.out_shardings) {
    PJIT_ASSIGN_OR_RETURN(auto kv, KeyAndSpec(flag, "out-sharding"));
    size_t outputs = root->opcode == Opcode::kTuple ? root->operands.size() : 1;
    std::optional<size_t> index = ParseIndex(kv.first);
    if (!index || *index >= outputs) return InvalidArgument("--out-sharding ", flag, ": results are numbered 0 to ", outputs - 1);
    size_t i = *index;
    Instruction* result = root->opcode == Opcode::kTuple ? root->operands[i] : root;
    PJIT_ASSIGN_OR_RETURN(PartitionSpec spec, ParsePartitionSpec(kv.second));
    StatusOr<HloSharding> s = PartitionSpecToSharding(spec, mesh, result->shape.rank());
    if (!s.ok()) return InvalidArgument("--out-sharding ", flag, ": ", s.status().message());
    if (root->opcode == Opcode::kTuple && root->sharding)  // the annotation on the result tuple yields to the flag
      root->sharding = WithElementSharding(root->sharding, root->shape, static_cast<int64_t>(i), *s);
    PJIT_RETURN_IF_ERROR(SetFromCommandLine(*result, *s, "--out-sharding " + flag, given, warnings));
  }
  return OkStatus();
}

// Times the passes of one compile and tells the progress callback when each starts.
class PassClock {
 public:
  PassClock(const CompileOptions& options, PassTimes& times) : options_(options), times_(times) {}
  ~PassClock() { Stop(); }
  void Start(const std::string& pass) {
    Stop();
    pass_ = pass;
    start_ = std::chrono::steady_clock::now();
    if (options_.progress) options_.progress(pass, 0, 0);
  }
  void Stop() {
    if (pass_.empty()) return;
    times_.emplace_back(pass_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    pass_.clear();
  }

 private:
  const CompileOptions& options_;
  PassTimes& times_;
  std::string pass_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

StatusOr<CompiledProgram> CompileText(const std::string& text, const CompileOptions& options) {
  CompiledProgram p;
  PassClock clock(options, p.pass_seconds);
  clock.Start("parse and verify");
  PJIT_ASSIGN_OR_RETURN(p.global, ParseHloModule(text, options.input));
  PJIT_RETURN_IF_ERROR(VerifyModule(*p.global));
  PJIT_ASSIGN_OR_RETURN(p.mesh, ChooseMesh(options, *p.global));
  PJIT_RETURN_IF_ERROR(ApplyCommandLineShardings(options, *p.global, p.mesh, p.warnings));
  clock.Start("inline calls");
  PJIT_RETURN_IF_ERROR(InlineCalls(*p.global));
  clock.Start("layout normalisation");
  NormalizeLayouts(*p.global);
  clock.Start("sharding propagation");
  PJIT_ASSIGN_OR_RETURN(PropagationReport propagation, PropagateShardings(*p.global, p.mesh));
  p.warnings.insert(p.warnings.end(), propagation.warnings.begin(), propagation.warnings.end());
  clock.Start("spmd partitioning");
  PJIT_ASSIGN_OR_RETURN(PartitionResult partitioned, PartitionModule(*p.global, p.mesh));
  p.device = std::move(partitioned.module);
  p.warnings.insert(p.warnings.end(), partitioned.warnings.begin(), partitioned.warnings.end());
  clock.Start("simplification (constant folding, algebra, CSE, DCE)");
  FoldConstants(*p.device->entry);
  RewriteDotLikeConvolutions(*p.device->entry);
  SimplifyAlgebra(*p.device->entry);
  EliminateCommonSubexpressions(*p.device->entry);
  EliminateDeadCode(*p.device->entry);
  Status verified = VerifyModule(*p.device);
  if (!verified.ok()) return Internal("the simplified device program does not verify: ", verified.message());
  clock.Stop();  // before p is moved out
  return p;
}

namespace {

// --memory-limit: a device whose arena would not fit fails the compile, naming the peak and
// the largest buffers live there (what to shard or recompute).
Status CheckMemoryLimit(const ThunkPlan& plan, const Module& device, const CompileOptions& options) {
  if (!options.memory_limit) return OkStatus();
  const Computation& entry = *device.entry;
  for (const ThunkSequence& seq : plan.sequences) {
    if (seq.arena_bytes <= options.memory_limit) continue;
    PJIT_ASSIGN_OR_RETURN(PlanPeak peak, FindPlanPeak(seq, static_cast<int64_t>(entry.instructions.size())));
    std::string who = seq.device < 0 ? "each device" : "device " + std::to_string(seq.device);
    std::string at = peak.position < static_cast<int64_t>(entry.instructions.size())
                         ? entry.instructions[static_cast<size_t>(peak.position)]->name
                         : "the end";
    std::string largest;
    for (size_t i = 0; i < peak.live.size() && i < 3; ++i) {
      const BufferInfo& b = *peak.live[i];
      std::string shape = BufferShape(b, device);
      largest += StrCat(i ? ", " : "", b.instruction, shape.empty() ? "" : " " + shape, " ", FormatBytes(b.slice.size));
    }
    return InvalidArgument(options.input, ": ", who, " needs ", FormatBytes(seq.arena_bytes), ", over --memory-limit ",
                           FormatBytes(options.memory_limit), ": peak ", FormatBytes(peak.bytes), " live at ", at,
                           "; largest live there: ", largest);
  }
  return OkStatus();
}

struct Targets {
  bool cpu = false, cuda = false;
};

StatusOr<Targets> ChooseTargets(const CompileOptions& options) {
  Targets t;
  for (const std::string& target : options.targets) {
    if (target == "cpu") t.cpu = true;
    else if (target == "cuda") t.cuda = true;
    else return InvalidArgument("--target '", target, "': not a target pjit compiles for (cpu, cuda)");
  }
  if (!t.cpu && !t.cuda) return InvalidArgument("--target: no target given (cpu, cuda or cpu,cuda)");
  return t;
}

// The loop kernels' executables, one per target and format, each listing every fusion.
StatusOr<std::vector<ExecutableInfo>> CompileLoopExecutables(const std::vector<LoopFusion>& fusions, Targets targets,
                                                             const std::string& cpu, const CompileOptions& options,
                                                             PassClock& clock, std::vector<std::string>& warnings) {
  std::vector<std::string> names;
  for (const LoopFusion& f : fusions) names.push_back(f.name);
  std::vector<ExecutableInfo> out;
  if (targets.cpu) {
    clock.Start("x86-64 code generation");
    ExecutableInfo native{"x86_64", "elf", names, {}, cpu, CpuFeatures(cpu), {}};
    PJIT_ASSIGN_OR_RETURN(native.binary, CompileLoopKernels(fusions, {cpu}, [&](int64_t done, int64_t total) {
      if (options.progress) options.progress("x86-64 code generation", done, total);
    }));
    out.push_back(std::move(native));
  }
  if (targets.cuda) {
    clock.Start("CUDA code generation");
    if (options.progress) options.progress("CUDA code generation", 0, static_cast<int64_t>(fusions.size()));
    PJIT_ASSIGN_OR_RETURN(CudaKernels cuda, CompileCudaKernels(fusions, {options.cuda_archs}, FindCudaToolkit()));
    std::vector<std::vector<uint64_t>> launches;
    for (uint64_t threads : cuda.threads) launches.push_back({threads});
    out.push_back(ExecutableInfo{"nvptx", "ptx", names, std::move(cuda.ptx), {}, {}, launches});
    for (auto& [arch, cubin] : cuda.cubins) out.push_back(ExecutableInfo{arch, "cubin", names, std::move(cubin), {}, {}, launches});
    warnings.insert(warnings.end(), cuda.warnings.begin(), cuda.warnings.end());
  }
  return out;
}

}  // namespace

StatusOr<CompileReport> Compile(const CompileOptions& options) {
  if (options.output != "-" && (options.output == options.input || SameFile(options.output, options.input)))
    return InvalidArgument("-o ", options.output, ": is the input; the artifact would replace the HLO module");
  PJIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(options.input));
  PJIT_ASSIGN_OR_RETURN(CompiledProgram p, CompileText(text, options));
  PassClock clock(options, p.pass_seconds);
  ArtifactContents contents;
  std::vector<std::string> flags;
  if (!options.mesh.empty()) flags.push_back("--mesh=" + options.mesh);
  for (const std::string& f : options.in_shardings) flags.push_back("--in-sharding=" + f);
  for (const std::string& f : options.out_shardings) flags.push_back("--out-sharding=" + f);
  PJIT_ASSIGN_OR_RETURN(Targets targets, ChooseTargets(options));
  PJIT_ASSIGN_OR_RETURN(std::string cpu, ResolveCpu(options.cpu));
  flags.push_back("--cpu=" + cpu);
  if (targets.cuda) {
    PJIT_ASSIGN_OR_RETURN(std::vector<std::string> archs, ResolveCudaArchs(options.cuda_archs));
    flags.push_back(std::string("--target=") + (targets.cpu ? "cpu,cuda" : "cuda"));
    std::string joined;
    for (const std::string& a : archs) joined += (joined.empty() ? "" : ",") + a;
    flags.push_back("--cuda-arch=" + joined);
  }
  // Where the artifact is written does not change it, so -o is not recorded.
  contents.producer = {"pjit-compile", PJIT_VERSION, flags, options.input, ContentHash(text)};
  contents.mesh = p.mesh;
  contents.signing_key = options.signing_key;
  contents.program = p.global.get();
  contents.signature = ShardedSignature(*p.global, p.mesh);
  contents.device_programs.push_back({p.mesh.device_ids, p.device.get()});
  clock.Start("loop fusion");
  std::vector<LoopFusion> fusions = FindModuleLoopFusions(*p.device);
  clock.Start("thunk lowering and buffer assignment");
  PJIT_ASSIGN_OR_RETURN(contents.thunks, LowerToThunks(*p.device, fusions));
  PJIT_RETURN_IF_ERROR(CheckMemoryLimit(contents.thunks, *p.device, options));
  if (!fusions.empty()) {
    // Thunks name executable 1, the first loop executable (see ExecutableInfo).
    PJIT_ASSIGN_OR_RETURN(std::vector<ExecutableInfo> loop, CompileLoopExecutables(fusions, targets, cpu, options, clock, p.warnings));
    std::vector<ExecutableInfo>& executables = contents.thunks.executables;
    executables.erase(executables.begin() + 1);
    executables.insert(executables.begin() + 1, std::make_move_iterator(loop.begin()), std::make_move_iterator(loop.end()));
  }
  clock.Start("write artifact");
  PJIT_RETURN_IF_ERROR(WriteArtifact(options.output, contents));
  clock.Stop();
  return CompileReport{std::move(p.warnings), std::move(p.pass_seconds)};
}

}  // namespace pjit
