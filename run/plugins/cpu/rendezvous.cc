#include "run/plugins/cpu/rendezvous.h"

namespace pjit {

Status Rendezvous::Wait(size_t rank, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& aborted,
                        const std::string& what) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t gen = generation_;
  arrived_[rank] = gen;
  if (++count_ == devices_.size()) {
    count_ = 0;
    ++generation_;
    cv_.notify_all();
    return OkStatus();
  }
  bool met = cv_.wait_until(lock, deadline, [&] { return generation_ != gen || aborted.load(); });
  if (generation_ != gen) return OkStatus();
  if (met) return Status(StatusCode::kInternal, "aborted");  // another device failed; its error is reported
  std::string missing;
  for (size_t r = 0; r < devices_.size(); ++r)
    if (arrived_[r] != gen) missing += (missing.empty() ? "" : ", ") + std::to_string(devices_[r]);
  return Internal(what, ": device(s) ", missing, " did not arrive in time");
}

void Rendezvous::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

void Rendezvous::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  count_ = 0;
  ++generation_;
}

}  // namespace pjit
