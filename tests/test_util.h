// Helpers shared by the test suites: testdata paths, module loading, array comparison.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "format/hlo_parser.h"
#include "format/literal.h"
#include "format/npy.h"

namespace pjit::testing {

inline std::string TestdataPath(const std::string& name) { return std::string(PJIT_TESTDATA_DIR) + "/" + name; }

// The names (without .hlo) of every testdata module, sorted.
inline std::vector<std::string> TestdataModules() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(PJIT_TESTDATA_DIR))
    if (e.path().extension() == ".hlo") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The numpy-made inputs of testdata module `name` (name.in0.npy, ...); a missing or bad one
// fails the test.
inline std::vector<Literal> ReadTestdataInputs(const std::string& name, size_t count) {
  std::vector<Literal> inputs;
  for (size_t i = 0; i < count; ++i) {
    auto in = ReadNpy(TestdataPath(name + ".in" + std::to_string(i) + ".npy"));
    EXPECT_TRUE(in.ok()) << in.status().message();
    if (in.ok()) inputs.push_back(std::move(*in));
  }
  return inputs;
}

// The devices a module's shardings name, maximal ones included: XLA's unit tests set the device
// count in the harness, not in num_partitions, and place arrays on devices beyond the tiles.
inline int64_t DevicesNamed(const Module& module) {
  int64_t n = DevicesImplied(module);
  std::vector<const HloSharding*> work;
  for (const auto& c : module.computations)
    for (const auto& in : c->instructions)
      if (in->sharding) work.push_back(&*in->sharding);
  while (!work.empty()) {
    const HloSharding* s = work.back();
    work.pop_back();
    if (s->kind == HloSharding::Kind::kMaximal) n = std::max(n, s->device + 1);
    for (const HloSharding& e : s->elements) work.push_back(&e);
  }
  return n;
}

// Floats uniform in [-bound, bound]; integers in [0, 6]; preds either way.
inline Literal RandomArray(const Shape& shape, std::mt19937& rng, double bound = 1.0) {
  Literal l(shape);
  std::uniform_real_distribution<double> real(-bound, bound);
  std::uniform_int_distribution<int> small(0, 6);
  for (int64_t i = 0; i < l.element_count(); ++i) {
    if (IsFloating(shape.dtype)) l.SetFromDouble(i, real(rng));
    else if (shape.dtype == DType::kPred) l.SetFromDouble(i, small(rng) % 2);
    else l.SetFromDouble(i, small(rng));
  }
  return l;
}

// A RandomArray for each entry parameter of `module`, in order.
inline std::vector<Literal> RandomInputs(const Module& module, uint32_t seed, double bound = 1.0) {
  std::mt19937 rng(seed);
  std::vector<Literal> inputs;
  for (const Instruction* p : module.entry->parameters) inputs.push_back(RandomArray(p->shape, rng, bound));
  return inputs;
}

inline std::unique_ptr<Module> ParseOrDie(std::string_view text) {
  auto m = ParseHloModule(text, "test.hlo");
  EXPECT_TRUE(m.ok()) << m.status().message();
  return m.ok() ? std::move(m).value() : nullptr;
}

// Elementwise |got - want| <= atol + rtol * |want|, NaNs equal, exact for integers and pred.
inline ::testing::AssertionResult AllClose(const Literal& got, const Literal& want, double rtol, double atol) {
  if (!got.shape().Compatible(want.shape()))
    return ::testing::AssertionFailure() << "shape " << got.shape().ToString(false) << " vs expected " << want.shape().ToString(false);
  bool exact = !IsFloating(want.shape().dtype);
  int64_t bad = 0;
  std::string first;
  for (int64_t i = 0; i < want.element_count(); ++i) {
    double g = got.GetAsDouble(i), w = want.GetAsDouble(i);
    bool ok = exact ? g == w : (std::isnan(g) && std::isnan(w)) || g == w || std::abs(g - w) <= atol + rtol * std::abs(w);
    if (!ok && bad++ == 0) first = "element " + std::to_string(i) + ": got " + std::to_string(g) + ", expected " + std::to_string(w);
  }
  if (bad) return ::testing::AssertionFailure() << bad << " of " << want.element_count() << " elements differ; first " << first;
  return ::testing::AssertionSuccess();
}

}  // namespace pjit::testing
