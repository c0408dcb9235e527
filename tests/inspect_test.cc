// pjit-inspect's views, checked against what other code computes: the grids against the shards
// pjit-run hands each device, the memory peak against the buffer assignment's, collective
// bytes against the ring formulas worked out here from shapes, explanations against the flags
// given; plus golden outputs of every view for the bundled example (testdata/inspect).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>

#include "compile/pipeline.h"
#include "compile/thunk_lowering.h"
#include "format/artifact.h"
#include "format/artifact_writer.h"
#include "format/file_util.h"
#include "inspect/inspect.h"
#include "inspect/memory_report.h"
#include "inspect/sharding_explain.h"
#include "format/units.h"
#include "run/sharded_arrays.h"
#include "tests/mesh_configs.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

StatusOr<CompiledProgram> CompileModule(const std::string& name, const CompileOptions& base) {
  PJIT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(testing::TestdataPath(name + ".hlo")));
  CompileOptions options = base;
  options.input = name + ".hlo";
  return CompileText(text, options);
}

const std::vector<testing::MeshConfig>& Configs() {
  static const std::vector<testing::MeshConfig> configs = {
      {"x=2", {"x"}}, {"x=4", {"x"}}, {"data=2,model=2", {"data", "model"}}, {"data=2,model=4", {"data", "model"}}, {"x=3", {"x"}}};
  return configs;
}

// Calls `check` with every testdata module compiled for every configuration.
void ForEveryCompiledModule(const std::function<void(const CompiledProgram&)>& check) {
  for (const std::string& name : testing::TestdataModules()) {
    auto module = testing::ParseOrDie(*ReadFileToString(testing::TestdataPath(name + ".hlo")));
    ASSERT_NE(module, nullptr);
    for (const testing::MeshConfig& c : Configs()) {
      SCOPED_TRACE(name + " on " + c.mesh);
      CompileOptions options;
      testing::SetMeshAndShardings(*module, c, options);
      auto compiled = CompileModule(name, options);
      ASSERT_TRUE(compiled.ok()) << compiled.status().message();
      check(*compiled);
    }
  }
}

// Every tile of every input's and output's grid holds, on each device it names, exactly the
// elements the runtime's ShardArray gives that device; each device is in one tile.
TEST(InspectGrid, TilesAreTheShardsPjitRunHandsOut) {
  int arrays = 0;
  ForEveryCompiledModule([&](const CompiledProgram& compiled) {
    Signature sig = ShardedSignature(*compiled.global, compiled.mesh);
    std::vector<ArrayInfo> all = sig.inputs;
    all.insert(all.end(), sig.outputs.begin(), sig.outputs.end());
    for (const ArrayInfo& info : all) {
      SCOPED_TRACE(info.name);
      auto layouts = LayoutsOf(info.name, info.shape, info.sharding, compiled.mesh);
      ASSERT_TRUE(layouts.ok()) << layouts.status().message();
      ASSERT_EQ(layouts->size(), 1u);
      const ShardingLayout& l = (*layouts)[0];
      Literal global(Shape::Array(DType::kS32, info.shape.dims));
      for (int64_t i = 0; i < global.element_count(); ++i) global.Set<int32_t>(i, static_cast<int32_t>(i));
      std::vector<Literal> shards = ShardArray(global, info, compiled.mesh.device_count());
      std::multiset<int64_t> seen;
      for (const ShardingTile& t : l.tiles) {
        for (int64_t d : t.devices) {
          seen.insert(d);
          const Literal& shard = shards.at(static_cast<size_t>(d));
          // Walk the tile's elements: global index from the ranges, local index from the shard's dims.
          int64_t rank = info.shape.rank(), count = 1;
          for (const auto& r : t.ranges) count *= r.second - r.first;
          for (int64_t e = 0; e < count; ++e) {
            int64_t rest = e, g = 0, local = 0, gstride = 1, lstride = 1;
            for (int64_t k = rank - 1; k >= 0; --k) {
              int64_t extent = t.ranges[k].second - t.ranges[k].first, i = rest % extent;
              rest /= extent;
              g += (t.ranges[k].first + i) * gstride;
              local += i * lstride;
              gstride *= info.shape.dims[k];
              lstride *= shard.shape().dims[k];
            }
            ASSERT_EQ(shard.Get<int32_t>(local), g) << "device " << d << ", element " << e;
          }
        }
      }
      EXPECT_EQ(seen, std::multiset<int64_t>(compiled.mesh.device_ids.begin(), compiled.mesh.device_ids.end()));
      ++arrays;
    }
  });
  std::printf("checked the grids of %d arrays against the runtime's shards\n", arrays);
}

TEST(InspectGrid, DrawsTilesWithTheirDevices) {
  Mesh mesh;
  mesh.axes = {{"data", 2}, {"model", 2}};
  mesh.device_ids = {0, 1, 2, 3};
  auto s = ParseHloSharding("{devices=[2,1,2]<=[4] last_tile_dim_replicate}");
  ASSERT_TRUE(s.ok());
  auto l = LayoutsOf("w", Shape::Array(DType::kF32, {10, 3}), *s, mesh);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(DrawShardingGrid((*l)[0], {.ascii = true}),
            "w  f32[10,3]  {devices=[2,1,2]<=[4] last_tile_dim_replicate}\n"
            "  rows: dim 0 in 2 tiles of 5\n"
            "+-----+\n"
            "| 0,1 |\n"
            "+-----+\n"
            "| 2,3 |\n"
            "+-----+\n");
  std::string coloured = DrawShardingGrid((*l)[0], {.ascii = false, .color = true});
  EXPECT_THAT(coloured, HasSubstr("\x1b[38;5;16;48;5;"));
  EXPECT_THAT(coloured, HasSubstr("┌─────┐"));
}

// The peak the memory view finds by sweeping the buffer table is the buffer assignment's, and
// the buffers it lists at the peak add up to it.
TEST(InspectMemory, PeakIsThePlansPeak) {
  ForEveryCompiledModule([](const CompiledProgram& compiled) {
    auto plan = LowerToThunks(*compiled.device);
    ASSERT_TRUE(plan.ok());
    auto reports = BuildMemoryReports(*plan, *compiled.device, ShardedSignature(*compiled.global, compiled.mesh),
                                      compiled.mesh.device_count());
    ASSERT_TRUE(reports.ok()) << reports.status().message();
    ASSERT_EQ(reports->size(), 1u);
    const MemoryReport& r = (*reports)[0];
    EXPECT_EQ(r.peak_bytes, plan->sequences[0].peak_bytes);
    uint64_t live = 0;
    for (const auto& b : r.live_at_peak) live += b.buffer->slice.size;
    EXPECT_EQ(live, r.peak_bytes);
    uint64_t params = 0;
    for (const Instruction* p : compiled.device->entry->parameters) params += static_cast<uint64_t>(p->shape.ByteSize());
    EXPECT_EQ(r.kind_bytes[static_cast<int>(BufferInfo::Kind::kParameter)], params);
  });
}

// Megatron MLP: one all-reduce over the model axis, caused by the second matmul, moving
// 2(g-1)/g of the f32[4,4] partial result per device.
TEST(InspectCollectives, MegatronMlpHasOneAllReduceOverModel) {
  CompileOptions options;
  options.input = "mlp2.hlo";
  options.mesh = "data=2,model=2";
  options.in_shardings = {"0=data,_", "1=_,model", "2=model,_"};
  options.out_shardings = {"0=data,_"};
  auto compiled = CompileText(R"(HloModule mlp2
ENTRY e {
  x = f32[8,16] parameter(0)
  w1 = f32[16,32] parameter(1)
  w2 = f32[32,4] parameter(2)
  h = f32[8,32] dot(x, w1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  ROOT y = f32[8,4] dot(h, w2), lhs_contracting_dims={1}, rhs_contracting_dims={0}
})", options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  LinkModel link{10e9, 2e-6};
  std::vector<CollectiveRecord> records = CollectCollectives(*compiled->device, *compiled->global, compiled->mesh, link);
  ASSERT_EQ(records.size(), 1u);
  const CollectiveRecord& r = records[0];
  EXPECT_EQ(r.instruction->opcode, Opcode::kAllReduce);
  EXPECT_EQ(r.instruction->spmd_origin.instruction, "y");
  EXPECT_TRUE(r.instruction->spmd_origin.resharded.empty()) << "a partial sum, not a resharding";
  EXPECT_EQ(r.mesh_axes, std::vector<std::string>{"model"});
  EXPECT_EQ(r.group_size, 2);
  const uint64_t s = 4 * 4 * 4;  // f32[4,4] per device
  EXPECT_EQ(r.input_bytes, s);
  EXPECT_EQ(r.bytes_sent, 2 * (2 - 1) * s / 2);
  EXPECT_EQ(r.steps, 2);
  EXPECT_DOUBLE_EQ(r.seconds, 2 * 2e-6 + static_cast<double>(s) / 10e9);
}

// An op pjit does not partition gathers its sharded operand in full, and the report says so.
TEST(InspectCollectives, FullReplicationFallbackIsFlagged) {
  CompileOptions options;
  options.input = "bits.hlo";
  options.mesh = "x=2";
  options.in_shardings = {"0=x,_"};
  auto compiled = CompileText(R"(HloModule m
ENTRY e {
  x = f32[8,4] parameter(0)
  ROOT y = u8[8,4,4] bitcast-convert(x)
})", options);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  std::vector<CollectiveRecord> records = CollectCollectives(*compiled->device, *compiled->global, compiled->mesh, {});
  bool flagged = false;
  for (const CollectiveRecord& r : records) flagged |= r.instruction->spmd_origin.fallback;
  EXPECT_TRUE(flagged);
  EXPECT_THAT(CollectivesText(records, {}), HasSubstr("warning: full replication: pjit does not partition"));
}

TEST(InspectUnits, ParseAndFormat) {
  EXPECT_DOUBLE_EQ(*ParseBandwidth("25GB/s"), 25e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("100Gb/s"), 12.5e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("1.5e10"), 1.5e10);
  EXPECT_DOUBLE_EQ(*ParseLatency("5us"), 5e-6);
  EXPECT_DOUBLE_EQ(*ParseLatency("1.5ms"), 1.5e-3);
  EXPECT_DOUBLE_EQ(*ParseLatency("0"), 0);
  EXPECT_FALSE(ParseBandwidth("0GB/s").ok());
  EXPECT_FALSE(ParseBandwidth("fast").ok());
  EXPECT_THAT(ParseLatency("5 parsecs").status().message(), HasSubstr("unknown unit ' parsecs'"));
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(12 * 1024), "12.0 KiB");
  EXPECT_EQ(FormatBytes(3 * 1024 * 1024 + 512 * 1024), "3.50 MiB");
  EXPECT_EQ(FormatSeconds(5.02e-6), "5.02 us");
  EXPECT_EQ(Plural(1, "step"), "1 step");
}

// The bundled example (README, CMake target `example`), written as the tool writes it.
class InspectExample : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pjit_inspect_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    CompileOptions options;
    options.input = "testdata/mlp.hlo";
    options.mesh = "data=2,model=2";
    options.in_shardings = {"0=data,_", "1=_,model", "2=model"};
    options.out_shardings = {"0=data,_"};
    path_ = Write("mlp.pjit", options);
    options.out_shardings = {"0=data,model"};
    other_ = Write("mlp_model.pjit", options);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const CompileOptions& options) {
    auto compiled = CompileModule("mlp", options);
    EXPECT_TRUE(compiled.ok()) << compiled.status().message();
    auto plan = LowerToThunks(*compiled->device);
    EXPECT_TRUE(plan.ok());
    ArtifactContents c;
    c.producer = {"pjit-compile", "test", {}, "testdata/mlp.hlo", 0};
    c.mesh = compiled->mesh;
    c.program = compiled->global.get();
    c.signature = ShardedSignature(*compiled->global, c.mesh);
    c.device_programs.push_back({c.mesh.device_ids, compiled->device.get()});
    c.thunks = *plan;
    std::string path = (dir_ / name).string();
    EXPECT_TRUE(WriteArtifact(path, c).ok());
    return path;
  }

  // Compares with testdata/inspect/<golden>; PJIT_UPDATE_GOLDENS=1 rewrites it (review the diff).
  void ExpectGolden(const InspectRequest& q, const std::string& golden) {
    auto out = Inspect(q);
    ASSERT_TRUE(out.ok()) << out.status().message();
    std::string text = *out;
    for (const std::string& p : {path_, other_})
      for (size_t at; (at = text.find(p)) != std::string::npos;) text.replace(at, p.size(), fs::path(p).filename().string());
    std::string file = testing::TestdataPath("inspect/" + golden);
    if (std::getenv("PJIT_UPDATE_GOLDENS")) {
      ASSERT_TRUE(WriteFileAtomically(file, text).ok());
    }
    auto want = ReadFileToString(file);
    ASSERT_TRUE(want.ok()) << want.status().message();
    EXPECT_EQ(text, *want) << golden;
  }

  InspectRequest Request(InspectView view, bool json = false) {
    InspectRequest q;
    q.path = path_;
    q.view = view;
    q.json = json;
    return q;
  }

  fs::path dir_;
  std::string path_, other_;
};

TEST_F(InspectExample, Goldens) {
  for (bool json : {false, true}) {
    std::string ext = json ? ".json" : ".txt";
    InspectRequest shardings = Request(InspectView::kShardings, json);
    shardings.grid.ascii = true;
    ExpectGolden(shardings, "shardings" + ext);
    shardings.names = {"add.9", "call.15.broadcast.13"};
    ExpectGolden(shardings, "shardings_named" + ext);
    InspectRequest explain = Request(InspectView::kExplain, json);
    explain.name = "add.9";
    ExpectGolden(explain, "explain" + ext);
    ExpectGolden(Request(InspectView::kCollectives, json), "collectives" + ext);
    ExpectGolden(Request(InspectView::kMemory, json), "memory" + ext);
    ExpectGolden(Request(InspectView::kBinaries, json), "binaries" + ext);
    InspectRequest diff = Request(InspectView::kDiff, json);
    diff.other = other_;
    ExpectGolden(diff, "diff" + ext);
  }
}

// The issue's "done when": from pjit-inspect alone, the largest all-gather of the example,
// the instruction that caused it, and why its operand was sharded that way.
TEST_F(InspectExample, LargestAllGatherIsExplainedBackToTheFlag) {
  auto collectives = Inspect(Request(InspectView::kCollectives));
  ASSERT_TRUE(collectives.ok());
  EXPECT_THAT(*collectives, HasSubstr("1. all-gather"));
  EXPECT_THAT(*collectives, HasSubstr("caused by call.15.maximum.14"));
  EXPECT_THAT(*collectives, HasSubstr("its operand add.9 is {devices=[2,2]<=[4]}"));
  InspectRequest q = Request(InspectView::kExplain);
  q.name = "add.9";
  auto explain = Inspect(q);
  ASSERT_TRUE(explain.ok());
  EXPECT_THAT(*explain, HasSubstr("<- given on the command line: --in-sharding 1=_,model"));
}

TEST_F(InspectExample, ExtractWritesTheBlobAndRefusesWhatHasNoBinary) {
  InspectRequest q = Request(InspectView::kExtract);
  q.name = "call.15.constant.12";
  q.output = (dir_ / "c.bin").string();
  auto line = Inspect(q);
  ASSERT_TRUE(line.ok()) << line.status().message();
  auto bytes = ReadFileToString(q.output);
  ASSERT_TRUE(bytes.ok());
  float zero = 1;
  ASSERT_EQ(bytes->size(), sizeof zero);
  std::memcpy(&zero, bytes->data(), sizeof zero);
  EXPECT_EQ(zero, 0.0f) << "the relu's constant(0)";
  q.name = "hlo";
  EXPECT_THAT(Inspect(q).status().message(), HasSubstr("executables: target 'hlo' has no binary"));
  q.name = "nothing";
  EXPECT_THAT(Inspect(q).status().message(), HasSubstr("blobs: no target or blob named 'nothing'"));
}

TEST_F(InspectExample, UnknownNamesAreOneLineErrors) {
  InspectRequest q = Request(InspectView::kExplain);
  q.name = "nope";
  EXPECT_THAT(Inspect(q).status().message(), HasSubstr("mlp.pjit: program: no instruction named 'nope'"));
  q = Request(InspectView::kShardings);
  q.names = {"nope"};
  EXPECT_THAT(Inspect(q).status().message(), HasSubstr("no instruction named 'nope'"));
  q = Request(InspectView::kMemory);
  q.path = testing::TestdataPath("mlp.hlo");
  EXPECT_THAT(Inspect(q).status().message(), HasSubstr("not a .pjit artifact"));
}

}  // namespace
}  // namespace pjit
