// Where the devices of one replica group meet for one collective thunk, run after run: a
// reusable barrier (generation counted) with a deadline, which an abort from any device
// breaks. Each group has its own, so unrelated groups never share a lock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "format/status.h"

namespace pjit {

class Rendezvous {
 public:
  // `devices`: the group's device ids, by rank.
  explicit Rendezvous(std::vector<int64_t> devices) : devices_(std::move(devices)), arrived_(devices_.size(), 0) {}

  // Blocks until every member has arrived (and returns OK), the deadline passes (an error
  // naming the devices that did not arrive, for `what`), or `aborted` is set and Wake() called.
  Status Wait(size_t rank, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& aborted,
              const std::string& what);
  // Wakes the waiters so that they see an abort.
  void Wake();
  // Forgets a broken meeting (after a failed run, when no device is inside).
  void Reset();

  const std::vector<int64_t>& devices() const { return devices_; }

 private:
  std::vector<int64_t> devices_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t count_ = 0;
  uint64_t generation_ = 1;
  std::vector<uint64_t> arrived_;  // by rank: the generation it last arrived at
};

}  // namespace pjit
