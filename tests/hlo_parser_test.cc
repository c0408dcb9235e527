#include "format/hlo_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "format/hlo_printer.h"
#include "tests/test_util.h"

namespace pjit {
namespace {

using ::pjit::testing::ParseOrDie;
using ::testing::HasSubstr;

TEST(HloParser, JaxDumpWithShardingsAndCalls) {
  auto m = ParseOrDie(R"(HloModule jit_f, entry_computation_layout={(f32[8,16]{1,0})->f32[8]{0}}, num_partitions=8

region_0.17 {
  Arg_0.18 = f32[] parameter(0)
  Arg_1.19 = f32[] parameter(1)
  ROOT add.20 = f32[] add(Arg_0.18, Arg_1.19)
}

ENTRY main.25 {
  Arg_0.1 = f32[8,16]{1,0} parameter(0), sharding={devices=[2,1,4]<=[8] last_tile_dim_replicate}
  constant.4 = f32[] constant(0)
  ROOT reduce.21 = f32[8]{0} reduce(Arg_0.1, constant.4), dimensions={1}, to_apply=region_0.17, metadata={op_name="jit(f)/reduce_sum" source_file="/tmp/f.py" source_line=9}
}
)");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "jit_f");
  EXPECT_EQ(m->num_partitions, 8);
  ASSERT_NE(m->FindAttribute("entry_computation_layout"), nullptr);
  EXPECT_EQ(*m->FindAttribute("entry_computation_layout"), "{(f32[8,16]{1,0})->f32[8]{0}}");
  ASSERT_EQ(m->computations.size(), 2u);
  EXPECT_EQ(m->entry->name, "main.25");
  const Instruction* p = m->entry->parameters[0];
  EXPECT_EQ(p->shape.ToString(), "f32[8,16]{1,0}");
  ASSERT_TRUE(p->sharding);
  EXPECT_EQ(p->sharding->ToString(), "{devices=[2,1,4]<=[8] last_tile_dim_replicate}");
  EXPECT_EQ(p->sharding->tiles.Devices(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  const Instruction* r = m->entry->root;
  EXPECT_EQ(r->opcode, Opcode::kReduce);
  EXPECT_EQ(r->dimensions, std::vector<int64_t>{1});
  ASSERT_EQ(r->called.size(), 1u);
  EXPECT_EQ(r->called[0]->name, "region_0.17");
  EXPECT_EQ(r->metadata.op_name, "jit(f)/reduce_sum");
  EXPECT_EQ(r->metadata.source_file, "/tmp/f.py");
  EXPECT_EQ(r->metadata.source_line, 9);
  EXPECT_EQ(r->location, "test.hlo:12:3");
}

TEST(HloParser, PercentNamesSignaturesCommentsAndOperandTypes) {
  auto m = ParseOrDie(R"(/* leading comment */
HloModule m, is_scheduled=true

%add (x: f32[], y: f32[]) -> f32[] {
  %x = f32[] parameter(0)
  %y = f32[] parameter(1)
  ROOT %sum = f32[] add(f32[] %x, f32[] %y)
}

ENTRY %main (p: f32[4]) -> (f32[4], f32[]) {
  %p = f32[4]{0:T(128)S(1)} parameter(0) // trailing comment
  %c = f32[] constant(-inf)
  %r = f32[] reduce(f32[4]{0} %p, f32[] %c), dimensions={0}, to_apply=%add
  ROOT %t = (f32[4]{0}, f32[]) tuple(%p, /*index=1*/%r)
})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->entry->parameters[0]->shape.layout->details, "T(128)S(1)");
  EXPECT_EQ(m->entry->root->operands[1]->name, "r");
  EXPECT_TRUE(std::isinf(m->entry->Find("c")->literal.GetAsDouble(0)));
  EXPECT_EQ(*m->FindAttribute("is_scheduled"), "true");
}

TEST(HloParser, ForwardReferencesAreOrderedOperandsFirst) {
  auto m = ParseOrDie(R"(HloModule m
ENTRY e {
  ROOT r = f32[2] add(a, b)
  b = f32[2] negate(a)
  a = f32[2] parameter(0)
})");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->entry->instructions.size(), 3u);
  EXPECT_EQ(m->entry->instructions[0]->name, "a");
  EXPECT_EQ(m->entry->instructions[1]->name, "b");
  EXPECT_EQ(m->entry->root->name, "r");
}

TEST(HloParser, ConstantsOfEveryKind) {
  auto m = ParseOrDie(R"(HloModule m
ENTRY e {
  a = f32[2,3] constant({{1, 2.5, -3}, {1e3, inf, nan}})
  b = pred[3] constant({true, false, true})
  c = s8[2] constant({-128, 127})
  d = u64[] constant(18446744073709551615)
  e = bf16[2] constant({0.1, -2})
  f = f16[] constant(65504)
  ROOT t = (f32[], s32[2]) constant((1.5, {7, 8}))
})");
  ASSERT_TRUE(m);
  const Literal& a = m->entry->Find("a")->literal;
  EXPECT_EQ(a.GetAsDouble(1), 2.5);
  EXPECT_EQ(a.GetAsDouble(3), 1000);
  EXPECT_TRUE(std::isnan(a.GetAsDouble(5)));
  EXPECT_EQ(m->entry->Find("b")->literal.Get<bool>(1), false);
  EXPECT_EQ(m->entry->Find("c")->literal.Get<int8_t>(0), -128);
  EXPECT_EQ(m->entry->Find("d")->literal.Get<uint64_t>(0), 18446744073709551615ull);
  EXPECT_EQ(m->entry->Find("e")->literal.GetAsDouble(0), static_cast<double>(static_cast<float>(BFloat16(0.1f))));
  EXPECT_EQ(m->entry->Find("f")->literal.GetAsDouble(0), 65504);
  EXPECT_EQ(m->entry->root->literal.elements()[1].Get<int32_t>(1), 8);
}

TEST(HloParser, SplatConstants) {
  auto m = ParseOrDie("HloModule m\nENTRY e {\n  ROOT c = f32[2,3] constant(1.5)\n}");
  ASSERT_TRUE(m);
  const Literal& c = m->entry->root->literal;
  EXPECT_EQ(c.GetAsDouble(0), 1.5);
  EXPECT_EQ(c.GetAsDouble(5), 1.5);
  auto huge = ParseHloModule("HloModule m\nENTRY e {\n  ROOT c = f32[65536,65536] constant(1)\n}", "t.hlo");
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(), HasSubstr("t.hlo:3:38: splat constant of shape f32[65536,65536] has more than 2^28 elements"));
}

TEST(HloParser, PerOpcodeAttributes) {
  auto m = ParseOrDie(R"(HloModule m, replica_count=1, num_partitions=4

add {
  x = f32[] parameter(0)
  y = f32[] parameter(1)
  ROOT s = f32[] add(x, y)
}

ENTRY e {
  p = f32[4,8] parameter(0)
  k = f32[3,3,8,16] parameter(1)
  img = f32[1,10,10,8] parameter(2)
  ids = s32[5,1] parameter(3)
  sl = f32[2,3] slice(p), slice={[0:4:2], [1:7:2]}
  zero = f32[] constant(0)
  pd = f32[7,10] pad(p, zero), padding=1_2x0_1_0
  dt = f32[4,4] dot(p, p), lhs_contracting_dims={1}, rhs_contracting_dims={1}, operand_precision={highest,default}
  cv = f32[1,5,5,16] convolution(img, k), window={size=3x3 stride=2x2 pad=1_1x1_1 rhs_dilate=1x1}, dim_labels=b01f_01io->b01f, feature_group_count=1
  ga = f32[5,8] gather(p, ids), offset_dims={1}, collapsed_slice_dims={0}, start_index_map={0}, index_vector_dim=1, slice_sizes={1,8}, indices_are_sorted=true
  cmp = pred[4,8] compare(p, p), direction=LT, type=TOTALORDER
  ar = f32[4,8] all-reduce(p), channel_id=1, replica_groups={{0,1},{2,3}}, use_global_device_ids=true, to_apply=add
  ag = f32[8,8] all-gather(p), channel_id=2, replica_groups=[2,2]<=[2,2]T(1,0), dimensions={0}
  cp = f32[4,8] collective-permute(p), channel_id=3, source_target_pairs={{0,1},{1,0}}
  cc = f32[4,8] custom-call(p), custom_call_target="Sharding", sharding={replicated}, backend_config="x\"y", api_version=API_VERSION_ORIGINAL
  ROOT t = (f32[2,3], f32[7,10], f32[4,4], f32[1,5,5,16], f32[5,8], pred[4,8], f32[4,8], f32[8,8], f32[4,8], f32[4,8]) tuple(sl, pd, dt, cv, ga, cmp, ar, ag, cp, cc)
})");
  ASSERT_TRUE(m);
  const Computation& e = *m->entry;
  EXPECT_EQ(e.Find("sl")->slice[1], (SliceDim{1, 7, 2}));
  EXPECT_EQ(e.Find("pd")->padding[0], (PaddingDim{1, 2, 0}));
  EXPECT_EQ(e.Find("dt")->dot_dims.rhs_contracting, std::vector<int64_t>{1});
  EXPECT_EQ(e.Find("dt")->operand_precision, (std::vector<std::string>{"highest", "default"}));
  const Instruction* cv = e.Find("cv");
  EXPECT_EQ(cv->window[0].stride, 2);
  EXPECT_EQ(cv->window[1].padding_high, 1);
  EXPECT_EQ(cv->conv_dims.input_feature, 3);
  EXPECT_EQ(cv->conv_dims.kernel_output_feature, 3);
  EXPECT_EQ(cv->conv_dims.output_spatial, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(e.Find("ga")->gather_dims.start_index_map, std::vector<int64_t>{0});
  EXPECT_TRUE(e.Find("ga")->indices_are_sorted);
  EXPECT_EQ(e.Find("cmp")->comparison_direction, ComparisonDirection::kLt);
  EXPECT_EQ(e.Find("cmp")->comparison_type, ComparisonType::kTotalOrder);
  EXPECT_EQ(e.Find("ar")->replica_groups.groups, (std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}}));
  EXPECT_TRUE(e.Find("ar")->use_global_device_ids);
  // [2,2]<=[2,2]T(1,0): ids 0..3 laid out 2x2, transposed → groups {0,2},{1,3}.
  EXPECT_EQ(e.Find("ag")->replica_groups.groups, (std::vector<std::vector<int64_t>>{{0, 2}, {1, 3}}));
  EXPECT_EQ(e.Find("cp")->source_target_pairs[1], (std::pair<int64_t, int64_t>{1, 0}));
  EXPECT_EQ(e.Find("cc")->custom_call_target, "Sharding");
  EXPECT_EQ(e.Find("cc")->backend_config, "\"x\\\"y\"");
  EXPECT_EQ(e.Find("cc")->opaque_attributes[0].first, "api_version");
}

TEST(HloParser, ControlFlowComputations) {
  auto ok = ParseOrDie(R"(HloModule m
id {
  a = f32[2] parameter(0)
  ROOT b = f32[2] copy(a)
}
neg {
  a = f32[2] parameter(0)
  ROOT b = f32[2] negate(a)
}
ENTRY e {
  p = pred[] parameter(0)
  x = f32[2] parameter(1)
  ROOT c = f32[2] conditional(p, x, x), true_computation=id, false_computation=neg
})");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->entry->root->called.size(), 2u);
  EXPECT_EQ(ok->entry->root->called[0]->name, "id");
  EXPECT_EQ(ok->entry->root->called[1]->name, "neg");
  // The printer keeps the pred form.
  EXPECT_THAT(PrintModule(*ok), HasSubstr("true_computation=id, false_computation=neg"));
}

TEST(HloParser, OmittedShapesAreInferred) {
  auto m = ParseOrDie(R"(HloModule m
add {
  x = f32[] parameter(0)
  y = f32[] parameter(1)
  ROOT s = add(x, y)
}
ENTRY e {
  a = f32[2,3] parameter(0)
  b = bf16[3,5] parameter(1)
  c = bf16[2,3] convert(a)
  d = dot(c, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
  z = f32[] constant(0)
  r = reduce(a, z), dimensions={1}, to_apply=add
  ROOT t = tuple(d, r)
})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->entry->Find("d")->shape.ToString(), "bf16[2,5]");
  EXPECT_EQ(m->entry->Find("r")->shape.ToString(), "f32[2]");
  EXPECT_EQ(m->entry->root->shape.ToString(), "(bf16[2,5], f32[2])");
  EXPECT_EQ(m->computations[0]->root->shape.ToString(), "f32[]");
}

TEST(HloParser, StackFrameTablesAreKept) {
  auto m = ParseOrDie(R"(HloModule m

FileNames
1 "a.py"

FunctionNames
1 "f"

FileLocations
1 {file_name_id=1 function_name_id=1 line=3 end_line=3 column=1 end_column=5}

StackFrames
1 {file_location_id=1 parent_frame_id=1}

ENTRY e {
  ROOT c = pred[] constant(true), metadata={op_type="const" stack_frame_id=1}
})");
  ASSERT_TRUE(m);
  EXPECT_THAT(m->stack_frame_tables, HasSubstr("FileLocations"));
  EXPECT_EQ(m->entry->root->metadata.other[0].second, "1");
}

// ---- malformed inputs: each must fail with "test.hlo:LINE:COL: message", where <@> marks
// the expected position in the text.
struct Malformed {
  const char* name;
  const char* text;
  const char* message;
};

std::string Strip(const std::string& text, std::string* location) {
  size_t at = text.find("<@>");
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  *location = "test.hlo:" + std::to_string(line) + ":" + std::to_string(col) + ": ";
  return text.substr(0, at) + text.substr(at + 3);
}

#define ENTRY_WITH(body) "HloModule m\nENTRY e {\n  p = f32[2] parameter(0)\n  z = f32[] constant(0)\n" body "\n}\n"
#define ADD_COMP "add {\n  x = f32[] parameter(0)\n  y = f32[] parameter(1)\n  ROOT s = f32[] add(x, y)\n}\n"

const Malformed kMalformed[] = {
    {"EmptyInput", "<@>", "expected 'HloModule' but found end of input"},
    {"NoHeader", "<@>ENTRY e {\n  ROOT p = f32[] parameter(0)\n}", "expected 'HloModule'"},
    {"UnknownModuleAttribute", "HloModule m, <@>frob=1\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}", "unsupported: module attribute 'frob'"},
    {"UnknownOpcode", ENTRY_WITH("  ROOT r = f32[2] <@>frobnicate(p)"), "unsupported: opcode 'frobnicate'"},
    {"AsyncOpcode", ENTRY_WITH("  ROOT r = f32[2] <@>add-start(p, p)"), "unsupported: opcode 'add-start'"},
    {"UndefinedOperand", ENTRY_WITH("  ROOT r = f32[2] add(p, <@>q)"), "use of undefined instruction 'q'"},
    {"BadElementType", ENTRY_WITH("  ROOT r = <@>f33[2] negate(p)"), "expected a shape but found 'f33'"},
    {"UnsupportedElementType", ENTRY_WITH("  ROOT r = <@>c64[2] negate(p)"), "unsupported: element type 'c64'"},
    {"MissingEquals", ENTRY_WITH("  ROOT r <@>f32[2] negate(p)"), "expected '=' but found 'f32'"},
    {"UnterminatedComputation", "HloModule m\n<@>ENTRY e {\n  ROOT p = f32[] parameter(0)\n", "computation 'e' is not closed with '}'"},
    {"DuplicateName", ENTRY_WITH("  <@>p = f32[2] negate(p)"), "instruction name 'p' is defined twice"},
    {"TwoRoots", ENTRY_WITH("  ROOT a = f32[2] negate(p)\n  <@>ROOT b = f32[2] negate(p)"), "more than one ROOT"},
    {"NegativeDimension", ENTRY_WITH("  ROOT r = f32[<@>-1] negate(p)"), "a dimension size must not be negative"},
    {"DynamicDimension", ENTRY_WITH("  ROOT r = f32[<@><=2] negate(p)"), "unsupported: dynamic dimension"},
    {"LayoutNotPermutation", ENTRY_WITH("  ROOT r = f32[2,2]<@>{0,0} broadcast(p), dimensions={0}"), "layout is not a permutation"},
    {"UnknownAttribute", ENTRY_WITH("  ROOT r = f32[2] add(p, p), <@>frob=1"), "unsupported: attribute 'frob' on add"},
    {"AttributeOnWrongOpcode", ENTRY_WITH("  ROOT r = f32[2] add(p, p), <@>dimensions={0}"), "attribute 'dimensions' does not apply to add"},
    {"DuplicateAttribute", ENTRY_WITH("  ROOT r = f32[2] reverse(p), dimensions={0}, <@>dimensions={0}"), "duplicate attribute 'dimensions'"},
    {"UnknownComputation", ENTRY_WITH("  ROOT r = f32[] reduce(p, z), dimensions={0}, to_apply=<@>nothere"), "unknown computation 'nothere'"},
    {"BadDirection", ENTRY_WITH("  ROOT r = pred[2] compare(p, p), direction=<@>XX"), "expected a comparison direction"},
    {"BadComparisonType", ENTRY_WITH("  ROOT r = pred[2] compare(p, p), direction=LT, type=<@>FUZZY"), "expected a comparison type"},
    {"ConstantNotANumber", "HloModule m\nENTRY e {\n  ROOT c = f32[2] constant({1, <@>x})\n}", "expected a number but found 'x'"},
    {"ConstantTooManyElements", "HloModule m\nENTRY e {\n  ROOT c = f32[2] constant({1, 2<@>, 3})\n}", "constant has more than 2 elements in dimension 0"},
    {"ConstantTooFewElements", "HloModule m\nENTRY e {\n  ROOT c = f32[3] constant({1, 2<@>})\n}", "expected ',' (dimension 0 of f32[3] has 3 elements)"},
    {"ConstantOutOfRangeU8", "HloModule m\nENTRY e {\n  ROOT c = u8[] constant(<@>300)\n}", "constant 300 is out of range for u8"},
    {"ConstantNegativeUnsigned", "HloModule m\nENTRY e {\n  ROOT c = u32[] constant(<@>-1)\n}", "expected an integer"},
    {"ConstantOutOfRangeF16", "HloModule m\nENTRY e {\n  ROOT c = f16[] constant(<@>70000)\n}", "constant 70000 is out of range for f16"},
    {"ConstantFractionForInt", "HloModule m\nENTRY e {\n  ROOT c = s32[] constant(<@>1.5)\n}", "must be an integer"},
    {"ConstantLargerThanItsText", "HloModule m\nENTRY e {\n  ROOT c = f32[100000,100000] constant(<@>{1})\n}", "has more elements than the text has characters left"},
    {"ConstantElided", "HloModule m\nENTRY e {\n  ROOT c = f32[20] constant(<@>{...})\n}", "constant was elided by the printer"},
    {"UnterminatedString", ENTRY_WITH("  ROOT r = f32[2] custom-call(p), custom_call_target=<@>\"abc"), "unterminated string"},
    {"BadDimLabels", ENTRY_WITH("  ROOT r = f32[2] convolution(p, p), dim_labels=<@>bf01"), "dim_labels must look like b01f_01io->b01f"},
    {"DimLabelsSideTooShort", ENTRY_WITH("  ROOT r = f32[2] convolution(p, p), dim_labels=<@>bf01_oi01->b"), "'b' needs its two letter dims"},
    {"DimLabelsDigitOutOfRange", ENTRY_WITH("  ROOT r = f32[2] convolution(p, p), dim_labels=<@>b02f_01io->b01f"), "unexpected '2'"},
    {"UnknownWindowField", ENTRY_WITH("  ROOT r = f32[2] reduce-window(p, z), window={<@>sise=3}"), "unknown window field 'sise'"},
    {"WindowRankMismatch", ENTRY_WITH("  ROOT r = f32[2] reduce-window(p, z), window={size=3x3 stride=<@>1}"), "window field has 1 dimensions, expected 2"},
    {"IotaReplicaGroupsMismatch", ENTRY_WITH("  ROOT r = f32[2] all-gather(p), replica_groups=<@>[2,2]<=[8], dimensions={0}"), "4 devices do not match 8"},
    {"SourceTargetPairArity", ENTRY_WITH("  ROOT r = f32[2] collective-permute(p), source_target_pairs=<@>{{0,1,2}}"), "each source_target_pair needs 2 ids"},
    {"HugeParameterNumber", "HloModule m\n<@>ENTRY e {\n  ROOT p = f32[] parameter(4611686018427387904)\n}", "computation 'e' lacks parameter(0)"},
    {"ParameterGap", "HloModule m\n<@>ENTRY e {\n  ROOT p = f32[] parameter(1)\n}", "computation 'e' lacks parameter(0)"},
    {"OperandShapeMismatch", ENTRY_WITH("  ROOT r = f32[2] negate(f32[3] <@>p)"), "operand 'p' is declared f32[3] but is f32[2]"},
    {"UnbalancedSharding", "HloModule m\nENTRY e {\n  ROOT p = f32[2] parameter(0), sharding=<@>{replicated", "unbalanced '{'"},
    {"MissingCloseParen", ENTRY_WITH("  ROOT r = f32[2] add(p <@>p)"), "expected ')' but found 'p'"},
    {"TwoEntries", "HloModule m\nENTRY a {\n  ROOT p = f32[] parameter(0)\n}\n<@>ENTRY b {\n  ROOT p = f32[] parameter(0)\n}", "more than one ENTRY computation"},
    {"BadPadding", ENTRY_WITH("  ROOT r = f32[2] pad(p, z), padding=<@>1"), "padding needs low_high"},
    {"BadSlice", ENTRY_WITH("  ROOT r = f32[1] slice(p), slice={<@>0:1}"), "expected '[' but found '0'"},
    {"ShapeNotInferable", ENTRY_WITH("  ROOT r = <@>broadcast(p), dimensions={0}"), "the shape of broadcast cannot be inferred"},
    {"InferredShapeInvalid", ENTRY_WITH("  <@>ROOT r = add(p, z)"), "r: operands f32[2] and f32[] differ"},
    {"HugeShape", ENTRY_WITH("  ROOT r = f32[1048576,1048576,<@>1048576] negate(p)"), "shape has more than 2^50 elements"},
    {"DeepTuple", "HloModule m\nENTRY e {\n  ROOT p = ((((((((((((((((((((((((((((((((<@>(f32[])))))))))))))))))))))))))))))))) parameter(0)\n}", "tuple shapes nested deeper than 32"},
    {"SelfDependency", "HloModule m\nENTRY e {\n  <@>ROOT r = f32[2] negate(r)\n}", "instruction 'r' depends on itself"},
    {"RecursiveCall", "HloModule m\nc {\n  x = f32[] parameter(0)\n  <@>ROOT r = f32[] call(x), to_apply=c\n}\nENTRY e {\n  p = f32[] parameter(0)\n  ROOT r = f32[] call(p), to_apply=c\n}", "calls 'c' recursively"},
    {"DuplicateComputation", "HloModule m\n" ADD_COMP "<@>add {\n  x = f32[] parameter(0)\n  ROOT y = f32[] copy(x)\n}\nENTRY e {\n  ROOT p = f32[] parameter(0)\n}", "computation 'add' is defined twice"},
};

class MalformedTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedTest, FailsWithLocation) {
  std::string location;
  std::string text = Strip(GetParam().text, &location);
  auto m = ParseHloModule(text, "test.hlo");
  ASSERT_FALSE(m.ok()) << "parsed:\n" << text;
  EXPECT_EQ(m.status().message().rfind(location, 0), 0u) << m.status().message() << "\nexpected location " << location;
  EXPECT_THAT(m.status().message(), HasSubstr(GetParam().message));
  EXPECT_EQ(m.status().message().find('\n'), std::string::npos) << "error spans lines";
}

INSTANTIATE_TEST_SUITE_P(HloParser, MalformedTest, ::testing::ValuesIn(kMalformed),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace pjit
