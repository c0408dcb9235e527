// Runs one execution's devices, each on a thread of its own (one device: on the caller's): a
// collective blocks until its whole group arrives, so devices cannot share a pool of fewer
// threads.
#pragma once

#include <cstddef>
#include <functional>

#include "format/status.h"

namespace pjit {

// Calls `device(d)` for every d < n at once. When one fails, `on_failure()` is called right
// away from its thread (at most once at a time), so that the devices waiting for it in a
// collective can give up. Returns the failure that caused the others ("device D: ..."):
// devices that stopped because of it report the message "aborted" and are not chosen.
Status RunDevices(size_t n, const std::function<Status(size_t device)>& device, const std::function<void()>& on_failure);

}  // namespace pjit
