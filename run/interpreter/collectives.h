// Collectives between the devices of an SPMD evaluation: every device runs the same program
// on its own thread, and each collective instance meets at a rendezvous where the group's
// operands are combined with the real semantics (replica groups, every reduction kind).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "format/hlo_instruction.h"
#include "format/literal.h"
#include "format/status.h"

namespace pjit {

class Collectives {
 public:
  // `reduce` combines two arrays elementwise with an instruction's to_apply computation.
  using Reducer = std::function<StatusOr<Literal>(const Instruction&, const Literal&, const Literal&)>;

  Collectives(int64_t num_devices, std::chrono::milliseconds timeout) : num_devices_(num_devices), timeout_(timeout) {}

  // Called by `device` when it reaches `instr` with its operands; returns its result.
  StatusOr<Literal> Run(const Instruction& instr, const std::vector<const Literal*>& operands, int64_t device,
                        const Reducer& reduce);

 private:
  struct Key {
    const Instruction* instr;
    int64_t occurrence;  // the n-th time this device runs this instruction (loops)
    int64_t group;
    auto operator<=>(const Key&) const = default;
  };
  struct Meeting {
    std::vector<std::optional<Literal>> contributions;  // by position in the group
    std::vector<Literal> results;
    Status status;
    int64_t arrived = 0, departed = 0;
    bool done = false;
  };

  // The group `device` belongs to and its position in it.
  StatusOr<std::pair<int64_t, std::vector<int64_t>>> GroupOf(const Instruction& instr, int64_t device) const;
  static Status Combine(const Instruction& instr, Meeting& m, const Reducer& reduce);

  int64_t num_devices_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Meeting> meetings_;
  std::map<std::pair<const Instruction*, int64_t>, int64_t> occurrences_;  // (instr, device) → count
};

}  // namespace pjit
