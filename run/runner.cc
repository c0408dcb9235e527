#include "run/runner.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "format/artifact_reader.h"
#include "format/file_util.h"
#include "format/npy.h"
#include "run/input_binding.h"
#include "run/plugin_client.h"
#include "run/sharded_arrays.h"

namespace pjit {
namespace {

namespace fs = std::filesystem;

struct Job {
  std::string output_dir;
  std::vector<std::string> inputs;
  std::string where;  // "manifest.txt:3: " for errors
};

StatusOr<std::vector<Job>> ReadManifest(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::vector<Job> jobs;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    std::istringstream words(line);
    Job job;
    job.where = StrCat(path, ":", number, ": ");
    if (!(words >> job.output_dir) || job.output_dir.starts_with("#")) continue;
    for (std::string w; words >> w;) job.inputs.push_back(w);
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) return InvalidArgument(path, ": no jobs (each line: OUTPUT_DIR INPUT_SPEC...)");
  return jobs;
}

std::string Millis(double seconds) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(3) << seconds * 1e3 << " ms";
  return s.str();
}

class JobRunner {
 public:
  JobRunner(const RunOptions& options, const ArtifactReader& reader, const PluginClient& client,
            const LoadedExecutable& executable, std::ostream& out)
      : options_(options), signature_(reader.signature()), client_(client), executable_(executable), out_(out) {}

  Status RunJob(const Job& job, RunSummary& summary) {
    BindingOptions bind;
    bind.seed = options_.seed;
    StatusOr<std::vector<Literal>> inputs = BindArrays(signature_.inputs, job.inputs, bind);
    if (!inputs.ok()) return Status(inputs.status().code(), job.where + inputs.status().message());
    std::vector<Literal> expected;
    if (!options_.expected.empty()) {
      BindingOptions want;
      want.flag = "--expected-output";
      want.require_all = false;
      PJIT_ASSIGN_OR_RETURN(expected, BindArrays(signature_.outputs, options_.expected, want));
    }
    int64_t n = client_.num_devices();
    std::vector<std::vector<DeviceBuffer>> buffers(static_cast<size_t>(n));
    for (size_t i = 0; i < inputs->size(); ++i) {
      std::vector<Literal> shards = ShardArray((*inputs)[i], signature_.inputs[i], n);
      for (int64_t d = 0; d < n; ++d) {
        PJIT_ASSIGN_OR_RETURN(DeviceBuffer b, client_.BufferFromHost(shards[static_cast<size_t>(d)], d));
        buffers[static_cast<size_t>(d)].push_back(std::move(b));
      }
    }
    std::vector<std::vector<const DeviceBuffer*>> arguments(static_cast<size_t>(n));
    for (size_t d = 0; d < buffers.size(); ++d)
      for (const DeviceBuffer& b : buffers[d]) arguments[d].push_back(&b);
    std::vector<std::vector<DeviceBuffer>> results;
    for (int64_t r = 0; r < options_.repeat; ++r) {
      auto start = std::chrono::steady_clock::now();
      PJIT_ASSIGN_OR_RETURN(results, executable_.Execute(arguments, signature_.outputs.size()));
      latencies_.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::error_code ec;
    fs::create_directories(job.output_dir, ec);
    if (ec) return IoError(job.where, "cannot create '", job.output_dir, "': ", ec.message());
    for (size_t o = 0; o < signature_.outputs.size(); ++o) {
      const ArrayInfo& info = signature_.outputs[o];
      std::vector<Literal> shards;
      for (int64_t d = 0; d < n; ++d) {
        PJIT_ASSIGN_OR_RETURN(Literal s, results[static_cast<size_t>(d)][o].ToHost());
        shards.push_back(std::move(s));
      }
      std::string stem = "out" + std::to_string(o);
      if (options_.keep_sharded) {
        for (int64_t d = 0; d < n; ++d) {
          std::string path = (fs::path(job.output_dir) / (stem + ".device" + std::to_string(d) + ".npy")).string();
          PJIT_RETURN_IF_ERROR(WriteNpy(path, shards[static_cast<size_t>(d)]));
        }
        if (options_.batch.empty())
          out_ << stem << " (" << info.name << "): " << shards[0].shape().ToString(false) << " per device -> "
               << (fs::path(job.output_dir) / (stem + ".device*.npy")).string() << "\n";
        continue;
      }
      PJIT_ASSIGN_OR_RETURN(Literal global, AssembleArray(shards, info));
      std::string path = (fs::path(job.output_dir) / (stem + ".npy")).string();
      PJIT_RETURN_IF_ERROR(WriteNpy(path, global));
      if (options_.batch.empty()) out_ << stem << " (" << info.name << "): " << global.shape().ToString(false) << " -> " << path << "\n";
      if (o < expected.size() && expected[o].shape().dtype != DType::kInvalid) {
        if (std::optional<std::string> diff = CompareArrays(global, expected[o], options_.tolerance)) {
          out_ << stem << " (" << info.name << "): MISMATCH: " << *diff << "\n";
          ++summary.mismatches;
        } else {
          out_ << stem << " (" << info.name << "): matches the expected output\n";
        }
      }
    }
    ++summary.jobs;
    return OkStatus();
  }

  void ReportBenchmark(const std::string& platform) const {
    std::vector<double> t = latencies_;
    std::sort(t.begin(), t.end());
    double total = 0;
    for (double x : t) total += x;
    out_ << "benchmark: " << t.size() << " runs on " << platform << " (" << client_.num_devices() << " devices): min "
         << Millis(t.front()) << ", median " << Millis(t[t.size() / 2]) << ", max " << Millis(t.back()) << "; "
         << std::setprecision(4) << static_cast<double>(t.size()) / total << " runs/s\n";
  }

 private:
  const RunOptions& options_;
  const Signature& signature_;
  const PluginClient& client_;
  const LoadedExecutable& executable_;
  std::ostream& out_;
  std::vector<double> latencies_;
};

}  // namespace

StatusOr<RunSummary> Run(const RunOptions& options, std::ostream& out, std::ostream& progress) {
  if (options.repeat < 1) return InvalidArgument("--repeat ", options.repeat, ": must be at least 1");
  if (!options.batch.empty() && (!options.inputs.empty() || !options.output_dir.empty() || !options.expected.empty()))
    return InvalidArgument("--batch takes its inputs and output directories from the manifest: drop --input, --output-dir and --expected-output");
  if (options.batch.empty() && options.output_dir.empty()) return InvalidArgument("--output-dir is required (or --batch)");
  PJIT_ASSIGN_OR_RETURN(bool artifact, IsArtifactFile(options.program));
  if (!artifact) return InvalidArgument(options.program, ": not a .pjit artifact (compile it with pjit-compile first)");
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<ArtifactReader> reader, ArtifactReader::Open(options.program));
  int64_t n = reader->mesh().device_count();
  if (options.devices != 0 && options.devices != n) {
    std::string mesh;
    for (const MeshAxis& a : reader->mesh().axes) mesh += (mesh.empty() ? "" : ",") + a.name + "=" + std::to_string(a.size);
    return InvalidArgument("--devices ", options.devices, ": ", options.program, " is compiled for the mesh ", mesh, " of ", n,
                           " devices");
  }
  std::vector<Job> jobs;
  if (options.batch.empty()) {
    jobs.push_back(Job{options.output_dir, options.inputs, ""});
  } else {
    PJIT_ASSIGN_OR_RETURN(jobs, ReadManifest(options.batch));
  }
  PJIT_ASSIGN_OR_RETURN(std::shared_ptr<Plugin> plugin, Plugin::Load(options.platform));
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<PluginClient> client, PluginClient::Create(plugin, n, options.timeout_ms));
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<LoadedExecutable> executable, client->Load(reader->bytes(), options.program));
  JobRunner runner(options, *reader, *client, *executable, out);
  RunSummary summary;
  for (size_t j = 0; j < jobs.size(); ++j) {
    PJIT_RETURN_IF_ERROR(runner.RunJob(jobs[j], summary));
    if (options.batch.empty()) continue;
    if (options.progress_bar) {
      int width = 30, filled = static_cast<int>(width * (j + 1) / jobs.size());
      progress << "\r[" << std::string(static_cast<size_t>(filled), '#') << std::string(static_cast<size_t>(width - filled), ' ')
               << "] " << j + 1 << "/" << jobs.size() << std::flush;
      if (j + 1 == jobs.size()) progress << "\n";
    } else {
      out << "job " << j + 1 << "/" << jobs.size() << ": " << jobs[j].output_dir << "\n";
    }
  }
  if (options.benchmark) runner.ReportBenchmark(plugin->api().platform_name);
  return summary;
}

}  // namespace pjit
