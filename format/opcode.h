// HLO opcodes supported by pjit, with their text names.
#pragma once

#include <optional>
#include <string_view>

namespace pjit {

// V(enumerator, text name, category)
#define PJIT_OPCODES(V)                                          \
  V(kParameter, "parameter", kOther)                             \
  V(kConstant, "constant", kOther)                               \
  V(kIota, "iota", kOther)                                       \
  V(kTuple, "tuple", kOther)                                     \
  V(kGetTupleElement, "get-tuple-element", kOther)               \
  V(kCall, "call", kOther)                                       \
  V(kWhile, "while", kOther)                                     \
  V(kConditional, "conditional", kOther)                         \
  V(kCustomCall, "custom-call", kOther)                          \
  V(kBroadcast, "broadcast", kOther)                             \
  V(kReshape, "reshape", kOther)                                 \
  V(kBitcast, "bitcast", kOther)                                 \
  V(kTranspose, "transpose", kOther)                             \
  V(kConvert, "convert", kOther)                                 \
  V(kBitcastConvert, "bitcast-convert", kOther)                  \
  V(kReducePrecision, "reduce-precision", kOther)                \
  V(kCopy, "copy", kOther)                                       \
  V(kSlice, "slice", kOther)                                     \
  V(kDynamicSlice, "dynamic-slice", kOther)                      \
  V(kDynamicUpdateSlice, "dynamic-update-slice", kOther)         \
  V(kConcatenate, "concatenate", kOther)                         \
  V(kPad, "pad", kOther)                                         \
  V(kReverse, "reverse", kOther)                                 \
  V(kGather, "gather", kOther)                                   \
  V(kScatter, "scatter", kOther)                                 \
  V(kDot, "dot", kOther)                                         \
  V(kConvolution, "convolution", kOther)                         \
  V(kReduce, "reduce", kOther)                                   \
  V(kReduceWindow, "reduce-window", kOther)                      \
  V(kSelectAndScatter, "select-and-scatter", kOther)             \
  V(kMap, "map", kOther)                                         \
  V(kSort, "sort", kOther)                                       \
  V(kRngBitGenerator, "rng-bit-generator", kOther)               \
  V(kSelect, "select", kOther)                                   \
  V(kClamp, "clamp", kOther)                                     \
  V(kCompare, "compare", kOther)                                 \
  V(kOptimizationBarrier, "opt-barrier", kOther)                 \
  V(kAfterAll, "after-all", kOther)                              \
  V(kAddDependency, "add-dependency", kOther)                    \
  V(kAllReduce, "all-reduce", kCollective)                       \
  V(kAllGather, "all-gather", kCollective)                       \
  V(kReduceScatter, "reduce-scatter", kCollective)               \
  V(kAllToAll, "all-to-all", kCollective)                        \
  V(kCollectivePermute, "collective-permute", kCollective)       \
  V(kPartitionId, "partition-id", kOther)                        \
  V(kReplicaId, "replica-id", kOther)                            \
  V(kAbs, "abs", kUnary)                                         \
  V(kNegate, "negate", kUnary)                                   \
  V(kSign, "sign", kUnary)                                       \
  V(kExp, "exponential", kUnary)                                 \
  V(kExpm1, "exponential-minus-one", kUnary)                     \
  V(kLog, "log", kUnary)                                         \
  V(kLog1p, "log-plus-one", kUnary)                              \
  V(kSqrt, "sqrt", kUnary)                                       \
  V(kRsqrt, "rsqrt", kUnary)                                     \
  V(kCbrt, "cbrt", kUnary)                                       \
  V(kTanh, "tanh", kUnary)                                       \
  V(kLogistic, "logistic", kUnary)                               \
  V(kSin, "sine", kUnary)                                        \
  V(kCos, "cosine", kUnary)                                      \
  V(kTan, "tan", kUnary)                                         \
  V(kErf, "erf", kUnary)                                         \
  V(kFloor, "floor", kUnary)                                     \
  V(kCeil, "ceil", kUnary)                                       \
  V(kRoundNearestEven, "round-nearest-even", kUnary)             \
  V(kRoundNearestAfz, "round-nearest-afz", kUnary)               \
  V(kIsFinite, "is-finite", kUnary)                              \
  V(kNot, "not", kUnary)                                         \
  V(kPopcnt, "popcnt", kUnary)                                   \
  V(kClz, "count-leading-zeros", kUnary)                         \
  V(kAdd, "add", kBinary)                                        \
  V(kSubtract, "subtract", kBinary)                              \
  V(kMultiply, "multiply", kBinary)                              \
  V(kDivide, "divide", kBinary)                                  \
  V(kRemainder, "remainder", kBinary)                            \
  V(kPower, "power", kBinary)                                    \
  V(kMaximum, "maximum", kBinary)                                \
  V(kMinimum, "minimum", kBinary)                                \
  V(kAnd, "and", kBinary)                                        \
  V(kOr, "or", kBinary)                                          \
  V(kXor, "xor", kBinary)                                        \
  V(kAtan2, "atan2", kBinary)                                    \
  V(kShiftLeft, "shift-left", kBinary)                           \
  V(kShiftRightLogical, "shift-right-logical", kBinary)          \
  V(kShiftRightArithmetic, "shift-right-arithmetic", kBinary)

enum class Opcode {
#define PJIT_OPCODE_ENUM(e, name, category) e,
  PJIT_OPCODES(PJIT_OPCODE_ENUM)
#undef PJIT_OPCODE_ENUM
};

enum class OpcodeCategory { kOther, kUnary, kBinary, kCollective };

std::string_view OpcodeName(Opcode op);
std::optional<Opcode> OpcodeFromName(std::string_view name);
OpcodeCategory CategoryOf(Opcode op);
inline bool IsElementwiseUnary(Opcode op) { return CategoryOf(op) == OpcodeCategory::kUnary; }
inline bool IsElementwiseBinary(Opcode op) { return CategoryOf(op) == OpcodeCategory::kBinary; }
inline bool IsCollective(Opcode op) { return CategoryOf(op) == OpcodeCategory::kCollective; }

}  // namespace pjit
