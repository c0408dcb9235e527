#include "run/plugins/device_threads.h"

#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <vector>

namespace pjit {

Status RunDevices(size_t n, const std::function<Status(size_t device)>& device, const std::function<void()>& on_failure) {
  std::vector<Status> status(n);
  std::mutex failure_mu;
  auto run = [&](size_t d) {
    try {
      status[d] = device(d);
    } catch (const std::bad_alloc&) {
      status[d] = Internal("out of host memory");
    }
    if (!status[d].ok()) {
      std::lock_guard<std::mutex> lock(failure_mu);
      on_failure();
    }
  };
  if (n == 1) {
    run(0);  // no thread to start for one device
  } else {
    std::vector<std::thread> threads;
    for (size_t d = 0; d < n; ++d) threads.emplace_back(run, d);
    for (std::thread& t : threads) t.join();
  }
  std::optional<size_t> failed;
  for (size_t d = 0; d < n; ++d)
    if (!status[d].ok() && (!failed || (status[*failed].message() == "aborted" && status[d].message() != "aborted"))) failed = d;
  if (!failed) return OkStatus();
  return Status(status[*failed].code(), StrCat("device ", *failed, ": ", status[*failed].message()));
}

}  // namespace pjit
