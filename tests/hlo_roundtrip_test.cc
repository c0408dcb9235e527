// print → parse gives back the same module, field by field, for every testdata module and
// every corpus module that parses; corpus modules that do not parse fail with one clear line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "format/hlo_parser.h"
#include "format/hlo_printer.h"
#include "tests/module_equality.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

// "PATH:LINE:COL: message"
bool StartsWithLocation(const std::string& msg, const std::string& path) {
  if (msg.rfind(path + ":", 0) != 0) return false;
  size_t i = path.size() + 1;
  for (int field = 0; field < 2; ++field) {
    size_t digits = 0;
    while (i < msg.size() && std::isdigit(static_cast<unsigned char>(msg[i]))) ++i, ++digits;
    if (digits == 0 || i >= msg.size() || msg[i] != ':') return false;
    ++i;
  }
  return msg.size() > i + 1 && msg[i] == ' ';
}

void ExpectRoundTrip(const Module& m) {
  std::string printed = PrintModule(m);
  auto again = ParseHloModule(printed, "printed");
  ASSERT_TRUE(again.ok()) << again.status().message() << "\n" << printed;
  testing::ExpectSameModule(m, **again);
}

TEST(HloRoundTrip, EveryTestdataModule) {
  std::vector<std::string> names = testing::TestdataModules();
  ASSERT_GE(names.size(), 20u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto m = ParseHloFile(testing::TestdataPath(name + ".hlo"));
    ASSERT_TRUE(m.ok()) << m.status().message();
    ExpectRoundTrip(**m);
  }
}

// Every corpus module either parses and round-trips, or is rejected with one line that
// starts with its file:line:col.
TEST(HloRoundTrip, XlaCorpus) {
  std::filesystem::path corpus(PJIT_CORPUS_DIR);
  if (!std::filesystem::exists(corpus / "xla")) GTEST_SKIP() << "no conformance corpus at " << corpus;
  int parsed = 0, rejected = 0;
  for (const auto& dir : {"parser", "propagation", "spmd"}) {
    for (const auto& e : std::filesystem::directory_iterator(corpus / "xla" / dir)) {
      std::string path = e.path().string();
      SCOPED_TRACE(path);
      auto m = ParseHloFile(path);
      if (m.ok()) {
        ++parsed;
        ExpectRoundTrip(**m);
        continue;
      }
      ++rejected;
      const std::string msg = m.status().message();
      EXPECT_TRUE(StartsWithLocation(msg, path)) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  std::cout << "corpus: " << parsed << " parsed, " << rejected << " rejected with a located error\n";
  EXPECT_GT(parsed, 900);
}

}  // namespace
}  // namespace pjit
