#include "run/runner.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "format/file_util.h"
#include "format/npy.h"
#include "format/terminal_text.h"
#include "run/input_binding.h"
#include "run/output_set.h"
#include "run/session.h"

namespace pjit {
namespace {

namespace fs = std::filesystem;

struct Job {
  std::string output_dir;
  std::vector<std::string> inputs;
  std::string where;  // "manifest.txt:3: " for errors
};

// A manifest line's words, split at blanks as a shell does: '...' and "..." (anywhere in a
// word) keep blanks, a backslash outside single quotes takes the next character as it is.
StatusOr<std::vector<std::string>> SplitWords(const std::string& line, const std::string& where) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote == '\'') {
      if (c == '\'') quote = 0;
      else word += c;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (quote == '"') {
      if (c == '"') quote = 0;
      else word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) return InvalidArgument(where, "unterminated ", quote, " quote");
  if (in_word) words.push_back(std::move(word));
  return words;
}

StatusOr<std::vector<Job>> ReadManifest(const std::string& path) {
  PJIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::vector<Job> jobs;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    Job job;
    job.where = StrCat(path, ":", number, ": ");
    PJIT_ASSIGN_OR_RETURN(std::vector<std::string> words, SplitWords(line, job.where));
    if (words.empty() || words[0].starts_with("#")) continue;
    job.output_dir = words[0];
    job.inputs.assign(words.begin() + 1, words.end());
    jobs.push_back(std::move(job));
  }
  if (jobs.empty()) return InvalidArgument(path, ": no jobs (each line: OUTPUT_DIR INPUT_SPEC...)");
  return jobs;
}

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x[x.size() / 2];
}

std::string Millis(double seconds) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(3) << seconds * 1e3 << " ms";
  return s.str();
}

class JobRunner {
 public:
  JobRunner(const RunOptions& options, const Session& session, std::ostream& out) : options_(options), session_(session), out_(out) {}

  // The job's global inputs, checked against the artifact.
  StatusOr<std::vector<Literal>> Inputs(const Job& job) const {
    BindingOptions bind;
    bind.seed = options_.seed;
    StatusOr<std::vector<Literal>> inputs = BindArrays(session_.signature().inputs, job.inputs, bind);
    if (!inputs.ok()) return Status(inputs.status().code(), job.where + inputs.status().message());
    return inputs;
  }

  Status RunJob(const Job& job, RunSummary& summary) {
    const Signature& signature = session_.signature();
    PJIT_ASSIGN_OR_RETURN(std::vector<Literal> inputs, Inputs(job));
    std::vector<Literal> expected;
    if (!options_.expected.empty()) {
      BindingOptions want;
      want.flag = "--expected-output";
      want.what = "output";
      want.require_all = false;
      PJIT_ASSIGN_OR_RETURN(expected, BindArrays(signature.outputs, options_.expected, want));
    }
    auto upload_start = std::chrono::steady_clock::now();
    PJIT_ASSIGN_OR_RETURN(DeviceArrays on_devices, session_.Upload(inputs));
    uploads_.push_back(Since(upload_start));
    inputs.clear();  // held on the devices now
    DeviceArrays results;
    for (int64_t r = 0; r < options_.repeat; ++r) {
      auto start = std::chrono::steady_clock::now();
      PJIT_ASSIGN_OR_RETURN(results, session_.Execute(on_devices));
      latencies_.push_back(Since(start));
    }
    auto download_start = std::chrono::steady_clock::now();
    PJIT_ASSIGN_OR_RETURN(std::vector<std::vector<Literal>> shards, session_.DownloadShards(results));
    downloads_.push_back(Since(download_start));
    results = DeviceArrays();  // the host copies are all that is needed now
    on_devices = DeviceArrays();
    Status written = WriteOutputs(job, std::move(shards), expected, summary);
    if (!written.ok()) return Status(written.code(), job.where + written.message());
    ++summary.jobs;
    return OkStatus();
  }

  // Writes a job's outputs as one OutputSet (global arrays, or each device's shards) and
  // compares them with the expected ones.
  Status WriteOutputs(const Job& job, std::vector<std::vector<Literal>> shards, const std::vector<Literal>& expected,
                      RunSummary& summary) {
    const Signature& signature = session_.signature();
    PJIT_ASSIGN_OR_RETURN(OutputSet set, OutputSet::Begin(job.output_dir));
    bool print = options_.batch.empty();
    if (options_.keep_sharded) {
      for (size_t o = 0; o < shards.size(); ++o) {
        std::string stem = "out" + std::to_string(o);
        for (size_t d = 0; d < shards[o].size(); ++d)
          PJIT_RETURN_IF_ERROR(set.Write(stem + ".device" + std::to_string(d) + ".npy", shards[o][d]).status());
        if (print)
          out_ << stem << " (" << TerminalSafe(signature.outputs[o].name) << "): " << shards[o][0].shape().ToString(false) << " per device -> "
               << (fs::path(job.output_dir) / (stem + ".device*.npy")).string() << "\n";
      }
    }
    PJIT_ASSIGN_OR_RETURN(std::vector<Literal> outputs, session_.Assemble(std::move(shards)));
    for (size_t o = 0; o < outputs.size(); ++o) {
      std::string stem = "out" + std::to_string(o);
      const std::string name = TerminalSafe(signature.outputs[o].name);  // from the artifact
      if (!options_.keep_sharded) {
        PJIT_ASSIGN_OR_RETURN(std::string path, set.Write(stem + ".npy", outputs[o]));
        if (print) out_ << stem << " (" << name << "): " << outputs[o].shape().ToString(false) << " -> " << path << "\n";
      }
      if (o < expected.size() && expected[o].shape().dtype != DType::kInvalid) {
        if (std::optional<std::string> diff = CompareArrays(outputs[o], expected[o], options_.tolerance)) {
          out_ << stem << " (" << name << "): MISMATCH: " << *diff << "\n";
          ++summary.mismatches;
        } else {
          out_ << stem << " (" << name << "): matches the expected output\n";
        }
      }
    }
    return set.Finish(options_.program);
  }

  void ReportBenchmark() const {
    std::vector<double> t = latencies_;
    std::sort(t.begin(), t.end());
    double total = 0;
    for (double x : t) total += x;
    out_ << "benchmark: " << t.size() << " runs on " << session_.platform() << " (" << session_.num_devices()
         << " devices): min " << Millis(t.front()) << ", median " << Millis(t[t.size() / 2]) << ", max " << Millis(t.back())
         << "; " << std::setprecision(4) << static_cast<double>(t.size()) / total << " runs/s\n";
    out_ << "transfers per job (median of " << uploads_.size() << "): inputs to the devices " << Millis(Median(uploads_))
         << ", outputs to the host " << Millis(Median(downloads_)) << "\n";
  }

 private:
  const RunOptions& options_;
  const Session& session_;
  std::ostream& out_;
  std::vector<double> latencies_, uploads_, downloads_;  // seconds
};

}  // namespace

StatusOr<RunSummary> Run(const RunOptions& options, std::ostream& out, std::ostream& progress) {
  if (options.repeat < 1) return InvalidArgument("--repeat ", options.repeat, ": must be at least 1");
  if (options.timeout_ms < 1)
    return InvalidArgument("--timeout-ms ", options.timeout_ms, ": must be at least 1 (a collective some device never reaches would wait forever)");
  if (!options.batch.empty() && (!options.inputs.empty() || !options.output_dir.empty() || !options.expected.empty()))
    return InvalidArgument("--batch takes its inputs and output directories from the manifest: drop --input, --output-dir and --expected-output");
  if (options.batch.empty() && options.output_dir.empty()) return InvalidArgument("--output-dir is required (or --batch)");
  std::vector<Job> jobs;
  if (options.batch.empty()) {
    jobs.push_back(Job{options.output_dir, options.inputs, ""});
  } else {
    PJIT_ASSIGN_OR_RETURN(jobs, ReadManifest(options.batch));
  }
  SessionOptions session_options;
  session_options.platform = options.platform;
  session_options.timeout_ms = options.timeout_ms;
  session_options.cores_per_device = options.cores_per_device;
  session_options.verify_key = options.verify_key;
  PJIT_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Open(options.program, session_options));
  if (options.devices != 0 && options.devices != session->num_devices()) {
    std::string mesh;
    for (const MeshAxis& a : session->mesh().axes) mesh += (mesh.empty() ? "" : ",") + a.name + "=" + std::to_string(a.size);
    return InvalidArgument("--devices ", options.devices, ": ", options.program, " is compiled for the mesh ", mesh, " of ",
                           session->num_devices(), " devices");
  }
  JobRunner runner(options, *session, out);
  // Every job's inputs are checked before any job runs, so a bad line fails the batch at once.
  if (jobs.size() > 1)
    for (const Job& job : jobs) PJIT_RETURN_IF_ERROR(runner.Inputs(job).status());
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
  if (options.benchmark) runner.ReportBenchmark();
  return summary;
}

}  // namespace pjit
