#include "compile/loop_emitter.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsNVPTX.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

namespace pjit {
namespace {

using llvm::Value;

constexpr int64_t kSortRun = 16;  // elements a sort's first pass orders by insertion
constexpr int64_t kStreamAlignment = 64;  // a cache line: the bytes a non-temporal store fills at once
constexpr int64_t kMaxStackScratch = 64 << 10;
constexpr const char* kStreamDomain = "pjit.streamed";

class LoopEmitter {
 public:
  LoopEmitter(const LoopFusion& f, RowBlocking blocking, uint64_t stream_bytes, llvm::Module& m)
      : f_(f), blocking_(blocking), stream_bytes_(stream_bytes), m_(m), ctx_(m.getContext()), b_(ctx_) {
    members_.insert(f.members.begin(), f.members.end());
  }

  Status Emit() {
    llvm::Type* ptr = b_.getPtrTy();
    llvm::Type* i64 = b_.getInt64Ty();
    auto* type = llvm::FunctionType::get(b_.getVoidTy(), {ptr, i64, i64}, false);
    fn_ = llvm::Function::Create(type, llvm::Function::ExternalLinkage, f_.name, m_);
    fn_->addFnAttr(llvm::Attribute::NoUnwind);
    llvm::Value* args = fn_->getArg(0);
    llvm::Value* begin = fn_->getArg(1);
    llvm::Value* end = fn_->getArg(2);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn_));
    // The inputs, the root's leaves, the siblings, then the scratch, if any.
    const size_t outputs = LeafShapes(f_.root->shape).size() + f_.siblings.size();
    const size_t count = f_.inputs.size() + outputs + (LoopFusionScratchBytes(f_) ? 1 : 0);
    for (size_t i = 0; i < count; ++i) {
      llvm::Value* slot = b_.CreateConstInBoundsGEP1_64(ptr, args, i);
      llvm::Value* base = b_.CreateLoad(ptr, slot, "arg" + std::to_string(i));
      if (i < f_.inputs.size()) base_[f_.inputs[i]] = base;
      else if (i < f_.inputs.size() + outputs) outs_.push_back(base);
      else scratch_base_ = base;
    }
    out_ = outs_[0];
    // Each argument its own alias scope: loads never alias the store to the output.
    llvm::MDBuilder md(ctx_);
    llvm::MDNode* domain = md.createAnonymousAliasScopeDomain("pjit.arguments");
    llvm::MDNode* out_scope = md.createAnonymousAliasScope(domain, "out");
    std::vector<llvm::Metadata*> input_scopes;
    for (const Instruction* in : f_.inputs) {
      llvm::MDNode* scope = md.createAnonymousAliasScope(domain, in->name);
      input_scopes.push_back(scope);
      load_scope_[in] = llvm::MDNode::get(ctx_, {scope});
    }
    not_out_ = llvm::MDNode::get(ctx_, {out_scope});
    out_scope_ = llvm::MDNode::get(ctx_, {out_scope});
    not_inputs_ = llvm::MDNode::get(ctx_, input_scopes);
    // Streamed stores are told apart by a scope of their own domain, which no access's
    // noalias list names, so it changes nothing alias analysis proves.
    llvm::MDNode* stream = md.createAnonymousAliasScope(md.createAnonymousAliasScopeDomain(kStreamDomain), "streamed");
    stream_scope_ = llvm::MDNode::get(ctx_, {out_scope, stream});
    lanes_ = LoopFusionLanes(f_, blocking_);
    if (lanes_ > 1)  // a GPU warp shares each row; blocks are whole warps, so tid.x % lanes is the lane
      lane_ = b_.CreateURem(b_.CreateZExt(b_.CreateIntrinsic(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x, {}, {}), b_.getInt64Ty()),
                            b_.getInt64(lanes_));
    if (f_.root->opcode == Opcode::kScatter) return EmitScatter(begin, end);
    if (f_.root->opcode == Opcode::kSort) return EmitSort(begin, end);
    if (IsVariadicReduce(*f_.root)) return EmitVariadicReduce(begin, end);
    ChooseScratch();
    const Rows rows = RowsOfRoot();
    if (!Streams(rows.inner)) {
      PJIT_RETURN_IF_ERROR(EmitRows(begin, end, rows, false));
      b_.CreateRetVoid();
      return Verify();
    }
    // Where every output is 64-byte aligned (the runtime's buffers are), a copy of the rows
    // whose element stores MarkStreamedStores makes non-temporal; else the plain rows.
    Value* aligned = b_.getTrue();
    for (Value* out : outs_)
      aligned = b_.CreateAnd(aligned, b_.CreateICmpEQ(b_.CreateAnd(b_.CreatePtrToInt(out, b_.getInt64Ty()), b_.getInt64(kStreamAlignment - 1)), b_.getInt64(0)));
    llvm::BasicBlock* streamed = llvm::BasicBlock::Create(ctx_, "streamed", fn_);
    llvm::BasicBlock* plain = llvm::BasicBlock::Create(ctx_, "plain", fn_);
    b_.CreateCondBr(aligned, streamed, plain);
    b_.SetInsertPoint(streamed);
    for (Value* out : outs_) b_.CreateAlignmentAssumption(m_.getDataLayout(), out, kStreamAlignment);
    PJIT_RETURN_IF_ERROR(EmitRows(begin, end, rows, true));
    b_.CreateIntrinsic(llvm::Intrinsic::x86_sse_sfence, {}, {});  // non-temporal stores are weakly ordered
    b_.CreateRetVoid();
    b_.SetInsertPoint(plain);
    PJIT_RETURN_IF_ERROR(EmitRows(begin, end, rows, false));
    b_.CreateRetVoid();
    return Verify();
  }

 private:
  // A row: the last dims from row_rank of an elementwise root or a column reduction
  // (out[row * inner + j] = ...), or for another reduction one output element (out[row] =
  // fold of its `inner` reduced elements).
  struct Rows {
    bool column = false;
    bool reduce = false;
    int64_t row_rank = 0;
    int64_t inner = 1;
  };
  Rows RowsOfRoot() const {
    Rows r;
    r.column = IsColumnReduction(*f_.root);
    r.reduce = f_.root->opcode == Opcode::kReduce && !r.column;
    r.row_rank = LoopFusionRowRank(f_);
    if (r.reduce) {
      r.inner = ReducedCount(*f_.root);
    } else {
      for (int64_t d = r.row_rank; d < f_.root->shape.rank(); ++d) r.inner *= f_.root->shape.dims[static_cast<size_t>(d)];
    }
    return r;
  }

  // Whether the kernel's element stores may stream past the cache: its outputs (rows of an
  // elementwise root, whose every block starts 64-byte aligned in an aligned output) are at
  // least stream_bytes_, more than a consumer could find still cached, and storing them
  // normally would first read each line for ownership: three transfers of a line where two
  // suffice, for a kernel that reads as much as it writes. A softmax-like scratch row must
  // fit the stack.
  bool Streams(int64_t inner) const {
    const Shape& s = f_.root->shape;
    if (!stream_bytes_ || lanes_ > 1 || f_.root->opcode == Opcode::kReduce || s.rank() == 0) return false;
    if (scratch_ && inner * DTypeByteSize(s.dtype) > kMaxStackScratch) return false;
    uint64_t bytes = 0;
    std::vector<const Shape*> shapes = LeafShapes(s);
    for (const Instruction* sibling : f_.siblings) shapes.push_back(&sibling->shape);
    const int64_t block = LoopFusionBlock(f_, blocking_);
    for (const Shape* leaf : shapes) {
      const int64_t size = DTypeByteSize(leaf->dtype);
      if ((inner * size) % kStreamAlignment || (block && block < inner && (block * size) % kStreamAlignment)) return false;
      bytes += static_cast<uint64_t>(leaf->ByteSize());
    }
    return bytes >= stream_bytes_;
  }

  // for (row = begin; row < end; ++row) { row values; for (j = 0; j < inner; ++j) ... }, from
  // the insertion point, which it leaves after the loop; `streamed`: the element stores carry
  // stream_scope_ and a softmax-like scratch lives on the stack, not in the output row.
  Status EmitRows(Value* begin, Value* end, const Rows& rows, bool streamed) {
    cache_.clear();
    row_value_.clear();
    scratch_ready_ = false;
    const Shape& s = f_.root->shape;
    const auto [column, reduce, row_rank, inner] = rows;
    llvm::Type* i64 = b_.getInt64Ty();
    stack_scratch_ = nullptr;
    if (streamed && scratch_) {  // in the entry block: allocated once, with the frame
      llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
      llvm::AllocaInst* row = entry.CreateAlloca(StorageType(s.dtype), b_.getInt64(inner), "scratch.row");
      row->setAlignment(llvm::Align(kStreamAlignment));
      stack_scratch_ = row;
    }
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    llvm::BasicBlock* row_head = llvm::BasicBlock::Create(ctx_, "row", fn_);
    llvm::BasicBlock* row_body = llvm::BasicBlock::Create(ctx_, "row.body", fn_);
    llvm::BasicBlock* row_next = llvm::BasicBlock::Create(ctx_, "row.next", fn_);
    llvm::BasicBlock* exit = llvm::BasicBlock::Create(ctx_, "exit", fn_);
    b_.CreateBr(row_head);
    b_.SetInsertPoint(row_head);
    llvm::PHINode* row = b_.CreatePHI(i64, 2, "r");
    row->addIncoming(begin, pre);
    // (An empty reduction never enters the inner loop: its rows are the init value.)
    llvm::BasicBlock* empty = reduce && inner == 0 ? llvm::BasicBlock::Create(ctx_, "row.empty", fn_) : nullptr;
    b_.CreateCondBr(b_.CreateICmpSLT(row, end), inner > 0 ? row_body : empty ? empty : row_next, exit);
    if (empty) {
      b_.SetInsertPoint(empty);
      PJIT_ASSIGN_OR_RETURN(Value* init, Element(f_.root->operands[1], {}));
      StoreElement(s.dtype, init, b_.CreateInBoundsGEP(StorageType(s.dtype), out_, row));
      b_.CreateBr(row_next);
      cache_.clear();  // values of this block do not dominate the (unreachable) loop below
    }

    b_.SetInsertPoint(row_body);
    // A long last dim is cut into blocks, each a row of the launch (see RowBlocking).
    const int64_t block = LoopFusionBlock(f_, blocking_);
    const int64_t blocks = block ? (inner + block - 1) / block : 1;
    Value* outer = blocks == 1 ? static_cast<Value*>(row) : b_.CreateUDiv(row, b_.getInt64(blocks));
    std::vector<Value*> index = Decompose(outer, s, 0, row_rank);
    if (scratch_) scratch_row_base_ = b_.CreateMul(outer, b_.getInt64(inner));
    PJIT_RETURN_IF_ERROR(EmitRowValues(index));
    scratch_ready_ = scratch_ != nullptr;
    if (reduce) {
      PJIT_ASSIGN_OR_RETURN(Value* folded, Fold(*f_.root, index));
      if (lane_) {  // every lane holds the fold; the first stores it
        llvm::BasicBlock* store = llvm::BasicBlock::Create(ctx_, "row.store", fn_);
        b_.CreateCondBr(b_.CreateICmpEQ(lane_, b_.getInt64(0)), store, row_next);
        b_.SetInsertPoint(store);
      }
      StoreElement(s.dtype, folded, b_.CreateInBoundsGEP(StorageType(s.dtype), out_, outer));
      b_.CreateBr(row_next);
    } else {
      Value* col_begin = blocks == 1 ? b_.getInt64(0) : b_.CreateMul(b_.CreateURem(row, b_.getInt64(blocks)), b_.getInt64(block));
      Value* col_end = blocks == 1 ? b_.getInt64(inner)
                                   : b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateAdd(col_begin, b_.getInt64(block)), b_.getInt64(inner));
      Value* row_base = b_.CreateMul(outer, b_.getInt64(inner));
      if (column) {
        PJIT_RETURN_IF_ERROR(EmitColumnReduction(index, row_base, col_begin, col_end));
      } else {
        Value* first = lane_ ? b_.CreateAdd(col_begin, lane_) : col_begin;
        PJIT_RETURN_IF_ERROR(EmitLoop(first, col_end, "col", [&](Value* col) -> Status {
          std::vector<Value*> element = index;
          std::vector<Value*> inner_index = Decompose(col, s, row_rank, s.rank());
          element.insert(element.end(), inner_index.begin(), inner_index.end());
          // The root, then its siblings (which never read the scratch: it is one kernel's own).
          for (size_t k = 0; k <= f_.siblings.size(); ++k) {
            const Instruction* root = k ? f_.siblings[k - 1] : f_.root;
            PJIT_ASSIGN_OR_RETURN(Value* v, Element(root, element));
            StoreElement(root->shape.dtype, v, b_.CreateInBoundsGEP(StorageType(root->shape.dtype), outs_[k], b_.CreateAdd(row_base, col)),
                         streamed ? stream_scope_ : out_scope_);
          }
          return OkStatus();
        }, lanes_));
      }
      b_.CreateBr(row_next);
    }

    b_.SetInsertPoint(row_next);
    Value* next = b_.CreateAdd(row, b_.getInt64(1));
    row->addIncoming(next, row_next);
    b_.CreateBr(row_head);
    b_.SetInsertPoint(exit);
    return OkStatus();
  }

  // Softmax's exp(x - max) is folded into the row's sum and then divided by it: computing it
  // once, the fold stores each value in the output row (this row's bytes, in cache) and the
  // elements' pass loads it back instead of computing it again. The scratch is an element
  // expression with a transcendental op, of the root's shape and type, that a row value folds
  // over the last dim and that the elements use too; at most one per fusion.
  void ChooseScratch() {
    const Instruction& root = *f_.root;
    if (root.opcode == Opcode::kReduce || root.shape.rank() == 0) return;
    std::set<const Instruction*> row_values(f_.row_values.begin(), f_.row_values.end());
    for (const Instruction* r : f_.row_values) {
      const Instruction* e = r->operands[0];
      if (r->opcode != Opcode::kReduce || r->dimensions != std::vector<int64_t>{root.shape.rank() - 1} || e == &root ||
          !members_.count(e) || row_values.count(e) || e->shape != root.shape || !Transcendental(*e))
        continue;
      bool reused = false;
      for (const Instruction* m : f_.members)
        if (m != r && !row_values.count(m)) reused = reused || std::count(m->operands.begin(), m->operands.end(), e) > 0;
      if (!reused) continue;
      scratch_ = e;
      scratch_fold_ = r;
      return;
    }
  }

  // Whether computing `in` (with the members it reads, row values aside) takes a transcendental
  // op; memoised, as members share operands.
  bool Transcendental(const Instruction& in) {
    if (auto known = transcendental_.find(&in); known != transcendental_.end()) return known->second;
    bool found = false;
    switch (in.opcode) {
      case Opcode::kExp: case Opcode::kExpm1: case Opcode::kLog: case Opcode::kLog1p: case Opcode::kTanh: case Opcode::kLogistic:
      case Opcode::kSin: case Opcode::kCos: case Opcode::kPower: case Opcode::kErf: case Opcode::kAtan2:
        found = true;
        break;
      default:
        for (const Instruction* o : in.operands)
          found = found || (members_.count(o) && !std::count(f_.row_values.begin(), f_.row_values.end(), o) && Transcendental(*o));
    }
    transcendental_[&in] = found;
    return found;
  }

  // The fusion's row values for the row at `row_index` (the iteration space's row dims).
  Status EmitRowValues(const std::vector<Value*>& row_index) {
    for (size_t i = 0; i < f_.row_values.size(); ++i) {
      const Instruction* v = f_.row_values[i];
      std::vector<Value*> index;
      for (int64_t d : f_.row_value_dims[i]) index.push_back(d < 0 ? b_.getInt64(0) : row_index[static_cast<size_t>(d)]);
      StatusOr<Value*> x = v->opcode == Opcode::kReduce ? Fold(*v, index) : Compute(*v, index);
      if (!x.ok()) return x.status();
      row_value_[v] = *x;
    }
    return OkStatus();
  }

  // Elements each output element of reduction r folds.
  static int64_t ReducedCount(const Instruction& r) {
    int64_t count = 1;
    for (int64_t d : r.dimensions) count *= r.operands[0]->shape.dims[static_cast<size_t>(d)];
    return count;
  }

  // The index into reduction r's input of output element `out_index` and the k-th (in
  // row-major order) element of the reduced dims.
  std::vector<Value*> ReducedIndex(const Instruction& r, const std::vector<Value*>& out_index, Value* k) {
    const Shape& in = r.operands[0]->shape;
    std::vector<int64_t> reduced = r.dimensions;
    std::sort(reduced.begin(), reduced.end());
    std::vector<Value*> index(static_cast<size_t>(in.rank()), nullptr);
    Value* rest = k;
    for (size_t i = reduced.size(); i-- > 0;) {
      Value* n = b_.getInt64(in.dims[static_cast<size_t>(reduced[i])]);
      index[static_cast<size_t>(reduced[i])] = i == 0 ? rest : b_.CreateURem(rest, n);
      if (i) rest = b_.CreateUDiv(rest, n);
    }
    for (size_t d = 0, o = 0; d < index.size(); ++d)
      if (!index[d]) index[d] = out_index[o++];
    return index;
  }

  // The columns [begin, end) of one output row of a column reduction: set to the init value,
  // then each element of the reduced dims in row-major order folded into them — the
  // interpreter's order, so sums are exact to it — reading contiguous rows of the input.
  Status EmitColumnReduction(const std::vector<Value*>& row_index, Value* row_base, Value* begin, Value* end) {
    const Instruction& r = *f_.root;
    const DType t = r.shape.dtype;
    std::optional<Opcode> fold = SimpleReducer(*r.called[0]);
    auto out_at = [&](Value* j) { return b_.CreateInBoundsGEP(StorageType(t), out_, b_.CreateAdd(row_base, j)); };
    PJIT_RETURN_IF_ERROR(EmitLoop(begin, end, "init", [&](Value* j) -> Status {
      PJIT_ASSIGN_OR_RETURN(Value* init, Element(r.operands[1], {}));
      StoreElement(t, init, out_at(j));
      return OkStatus();
    }));
    return EmitLoop(b_.getInt64(0), b_.getInt64(ReducedCount(r)), "fold", [&](Value* k) -> Status {
      return EmitLoop(begin, end, "fold.col", [&](Value* j) -> Status {
        std::vector<Value*> out_index = row_index;
        out_index.push_back(j);
        PJIT_ASSIGN_OR_RETURN(Value* x, Element(r.operands[0], ReducedIndex(r, out_index, k)));
        Value* acc = LoadElement(t, out_at(j), out_scope_, not_inputs_);  // the column reduction accumulates in the output
        StoreElement(t, Round(t, Binary(*fold, t, acc, x)), out_at(j));
        return OkStatus();
      });
    });
  }

  // A scatter's one launch row: the operand copied into the output, then each update element
  // in row-major order combined into the element its window start (read from the indices)
  // and offset reach — skipped when the window does not fit, as XLA skips it — sequentially,
  // as the interpreter does, so that repeated indices combine in the same order.
  Status EmitScatter(Value* begin, Value* end) {
    const Instruction& sc = *f_.root;
    const ScatterDimensionNumbers& d = sc.scatter_dims;
    const Shape& os = sc.shape;
    const Instruction* ids = sc.operands[1];
    const Instruction* updates = sc.operands[2];
    const Shape& us = updates->shape;
    const DType t = os.dtype;
    const Computation& combiner = *sc.called[0];
    const bool assign = combiner.root == combiner.parameters[1];
    const std::optional<Opcode> fold = SimpleReducer(combiner);
    auto out_at = [&](Value* linear) { return b_.CreateInBoundsGEP(StorageType(t), out_, linear); };
    std::vector<int64_t> window_dims, window_size(static_cast<size_t>(os.rank()), 1);
    for (int64_t i = 0; i < os.rank(); ++i)
      if (std::find(d.inserted_window_dims.begin(), d.inserted_window_dims.end(), i) == d.inserted_window_dims.end()) window_dims.push_back(i);
    for (size_t k = 0; k < window_dims.size(); ++k) window_size[static_cast<size_t>(window_dims[k])] = us.dims[d.update_window_dims[k]];
    llvm::BasicBlock* body = llvm::BasicBlock::Create(ctx_, "scatter", fn_);
    llvm::BasicBlock* exit = llvm::BasicBlock::Create(ctx_, "exit", fn_);
    b_.CreateCondBr(b_.CreateICmpSLT(begin, end), body, exit);
    b_.SetInsertPoint(body);
    PJIT_RETURN_IF_ERROR(EmitLoop(b_.getInt64(0), b_.getInt64(os.ElementCount()), "copy", [&](Value* i) -> Status {
      PJIT_ASSIGN_OR_RETURN(Value* x, Element(sc.operands[0], Decompose(i, os, 0, os.rank())));
      StoreElement(t, x, out_at(i));
      return OkStatus();
    }));
    PJIT_RETURN_IF_ERROR(EmitLoop(b_.getInt64(0), b_.getInt64(us.ElementCount()), "update", [&](Value* u) -> Status {
      std::vector<Value*> ui = Decompose(u, us, 0, us.rank()), scatter, window;
      for (int64_t i = 0; i < us.rank(); ++i)
        (std::find(d.update_window_dims.begin(), d.update_window_dims.end(), i) != d.update_window_dims.end() ? window : scatter)
            .push_back(ui[static_cast<size_t>(i)]);
      std::vector<Value*> at(static_cast<size_t>(os.rank()), b_.getInt64(0));
      for (size_t k = 0; k < d.scatter_dims_to_operand_dims.size(); ++k) {
        std::vector<Value*> where = scatter;
        if (d.index_vector_dim < ids->shape.rank()) where.insert(where.begin() + d.index_vector_dim, b_.getInt64(static_cast<int64_t>(k)));
        PJIT_ASSIGN_OR_RETURN(Value* v, Element(ids, where));
        v = IsSignedInt(ids->shape.dtype) ? b_.CreateSExtOrTrunc(v, b_.getInt64Ty()) : b_.CreateZExtOrTrunc(v, b_.getInt64Ty());
        at[static_cast<size_t>(d.scatter_dims_to_operand_dims[k])] = v;
      }
      Value* fits = b_.getTrue();
      for (int64_t dim = 0; dim < os.rank(); ++dim) {
        Value* start = at[static_cast<size_t>(dim)];
        fits = b_.CreateAnd(fits, b_.CreateAnd(b_.CreateICmpSGE(start, b_.getInt64(0)),
                                               b_.CreateICmpSLE(start, b_.getInt64(os.dims[dim] - window_size[static_cast<size_t>(dim)]))));
      }
      for (size_t k = 0; k < window_dims.size(); ++k)
        at[static_cast<size_t>(window_dims[k])] = b_.CreateAdd(at[static_cast<size_t>(window_dims[k])], window[k]);
      for (int64_t dim = 0; dim < os.rank(); ++dim)  // in bounds whatever the indices say; unused when it does not fit
        at[static_cast<size_t>(dim)] = ClampIndex(at[static_cast<size_t>(dim)], 0, std::max<int64_t>(os.dims[dim] - 1, 0));
      Value* address = out_at(Linear(os, at));
      Value* old = LoadElement(t, address, out_scope_, not_inputs_);
      PJIT_ASSIGN_OR_RETURN(Value* update, Element(updates, ui));
      Value* combined = assign ? update : Round(t, Binary(*fold, t, old, update));
      StoreElement(t, b_.CreateSelect(fits, combined, old), address);
      return OkStatus();
    }));
    b_.CreateBr(exit);
    b_.SetInsertPoint(exit);
    b_.CreateRetVoid();
    return Verify();
  }

  // A sort's launch rows [begin, end), each a row along the sorted dim: its operands'
  // elements computed into the outputs, sorted there by insertion in runs of kSortRun, then
  // the runs merged bottom-up, each pass from the outputs into the scratch or back (the last
  // one's result copied back from the scratch). A merge takes the right run's element only
  // when the comparator puts it strictly before the left one's, so equal elements keep their
  // order, as in the interpreter's stable sort.
  Status EmitSort(Value* begin, Value* end) {
    const Instruction& sort = *f_.root;
    const Shape& s = sort.operands[0]->shape;
    const size_t dim = static_cast<size_t>(sort.dimensions[0]);
    const int64_t n = s.dims[dim];
    int64_t stride = 1;
    for (size_t d = dim + 1; d < s.dims.size(); ++d) stride *= s.dims[d];
    std::vector<DType> types;
    std::vector<Value*> scratch;
    uint64_t offset = 0;
    for (const Instruction* o : sort.operands) {
      types.push_back(o->shape.dtype);
      scratch.push_back(b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), scratch_base_, offset));
      offset += SortScratchRegion(static_cast<uint64_t>(o->shape.ByteSize()));
    }
    PJIT_RETURN_IF_ERROR(EmitLoop(begin, end, "sort.row", [&](Value* row) -> Status {
      Value* base = b_.CreateAdd(b_.CreateMul(b_.CreateUDiv(row, b_.getInt64(stride)), b_.getInt64(n * stride)), b_.CreateURem(row, b_.getInt64(stride)));
      auto at = [&](Value* j) { return b_.CreateAdd(base, b_.CreateMul(j, b_.getInt64(stride))); };
      auto load = [&](const std::vector<Value*>& from, Value* j) {
        std::vector<Value*> v;
        for (size_t i = 0; i < from.size(); ++i) v.push_back(LoadElement(types[i], b_.CreateInBoundsGEP(StorageType(types[i]), from[i], at(j)), out_scope_, not_inputs_));
        return v;
      };
      auto store = [&](const std::vector<Value*>& to, Value* j, const std::vector<Value*>& v) {
        for (size_t i = 0; i < to.size(); ++i) StoreElement(types[i], v[i], b_.CreateInBoundsGEP(StorageType(types[i]), to[i], at(j)));
      };
      PJIT_RETURN_IF_ERROR(EmitLoop(b_.getInt64(0), b_.getInt64(n), "sort.copy", [&](Value* j) -> Status {
        std::vector<Value*> index = Decompose(at(j), s, 0, s.rank()), v;
        for (const Instruction* o : sort.operands) {
          PJIT_ASSIGN_OR_RETURN(Value* x, Element(o, index));
          v.push_back(x);
        }
        store(outs_, j, v);
        return OkStatus();
      }));
      PJIT_RETURN_IF_ERROR(EmitLoop(b_.getInt64(0), b_.getInt64(n), "sort.run", [&](Value* lo) -> Status {
        Value* hi = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateAdd(lo, b_.getInt64(kSortRun)), b_.getInt64(n));
        return EmitLoop(b_.CreateAdd(lo, b_.getInt64(1)), hi, "sort.insert", [&](Value* i) -> Status {
          // x = a[i]; for (j = i; j > lo && x < a[j - 1]; --j) a[j] = a[j - 1]; a[j] = x
          std::vector<Value*> x = load(outs_, i);
          llvm::BasicBlock* pre = b_.GetInsertBlock();
          llvm::BasicBlock* head = llvm::BasicBlock::Create(ctx_, "sort.shift", fn_);
          llvm::BasicBlock* check = llvm::BasicBlock::Create(ctx_, "sort.compare", fn_);
          llvm::BasicBlock* shift = llvm::BasicBlock::Create(ctx_, "sort.move", fn_);
          llvm::BasicBlock* place = llvm::BasicBlock::Create(ctx_, "sort.place", fn_);
          b_.CreateBr(head);
          b_.SetInsertPoint(head);
          llvm::PHINode* j = b_.CreatePHI(b_.getInt64Ty(), 2, "j");
          j->addIncoming(i, pre);
          b_.CreateCondBr(b_.CreateICmpSGT(j, lo), check, place);
          b_.SetInsertPoint(check);
          Value* before = b_.CreateSub(j, b_.getInt64(1));
          std::vector<Value*> prev = load(outs_, before);
          PJIT_ASSIGN_OR_RETURN(Value* less, Comparator(x, prev));
          b_.CreateCondBr(less, shift, place);
          b_.SetInsertPoint(shift);
          store(outs_, j, prev);
          j->addIncoming(before, shift);
          b_.CreateBr(head);
          b_.SetInsertPoint(place);
          store(outs_, j, x);
          return OkStatus();
        }, 1);
      }, kSortRun));
      bool in_scratch = false;
      for (int64_t width = kSortRun; width < n; width *= 2, in_scratch = !in_scratch) {
        const std::vector<Value*>& src = in_scratch ? scratch : outs_;
        const std::vector<Value*>& dst = in_scratch ? outs_ : scratch;
        PJIT_RETURN_IF_ERROR(EmitLoop(b_.getInt64(0), b_.getInt64(n), "sort.merge", [&](Value* lo) -> Status {
          Value* mid = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateAdd(lo, b_.getInt64(width)), b_.getInt64(n));
          Value* hi = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateAdd(lo, b_.getInt64(2 * width)), b_.getInt64(n));
          // dst[t] for t in [lo, hi): the left run's next element (i) or the right run's (j).
          llvm::BasicBlock* pre = b_.GetInsertBlock();
          llvm::BasicBlock* body = llvm::BasicBlock::Create(ctx_, "sort.take", fn_);
          llvm::BasicBlock* done = llvm::BasicBlock::Create(ctx_, "sort.take.done", fn_);
          b_.CreateBr(body);
          b_.SetInsertPoint(body);
          llvm::PHINode* t = b_.CreatePHI(b_.getInt64Ty(), 2, "t");
          llvm::PHINode* i = b_.CreatePHI(b_.getInt64Ty(), 2, "i");
          llvm::PHINode* j = b_.CreatePHI(b_.getInt64Ty(), 2, "j");
          t->addIncoming(lo, pre);
          i->addIncoming(lo, pre);
          j->addIncoming(mid, pre);
          // Loads stay inside the row when a run is used up (their values are then not taken).
          std::vector<Value*> left = load(src, b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, i, b_.getInt64(n - 1)));
          std::vector<Value*> right = load(src, b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, j, b_.getInt64(n - 1)));
          PJIT_ASSIGN_OR_RETURN(Value* less, Comparator(right, left));
          Value* take_right = b_.CreateAnd(b_.CreateICmpSLT(j, hi), b_.CreateOr(b_.CreateICmpSGE(i, mid), less));
          std::vector<Value*> v;
          for (size_t k = 0; k < left.size(); ++k) v.push_back(b_.CreateSelect(take_right, right[k], left[k]));
          store(dst, t, v);
          Value* step = b_.CreateZExt(take_right, b_.getInt64Ty());
          Value* t_next = b_.CreateAdd(t, b_.getInt64(1));
          t->addIncoming(t_next, body);
          i->addIncoming(b_.CreateAdd(i, b_.CreateSub(b_.getInt64(1), step)), body);
          j->addIncoming(b_.CreateAdd(j, step), body);
          b_.CreateCondBr(b_.CreateICmpSLT(t_next, hi), body, done);
          b_.SetInsertPoint(done);
          return OkStatus();
        }, 2 * width));
      }
      if (!in_scratch) return OkStatus();
      return EmitLoop(b_.getInt64(0), b_.getInt64(n), "sort.back", [&](Value* j) -> Status {
        store(outs_, j, load(scratch, j));
        return OkStatus();
      });
    }));
    b_.CreateRetVoid();
    return Verify();
  }

  // The sort's comparator on one element of each operand on either side: whether `lhs` sorts
  // before `rhs` (its parameters interleave the two sides).
  StatusOr<Value*> Comparator(const std::vector<Value*>& lhs, const std::vector<Value*>& rhs) {
    std::vector<Value*> arguments;
    for (size_t i = 0; i < lhs.size(); ++i) arguments.insert(arguments.end(), {lhs[i], rhs[i]});
    PJIT_ASSIGN_OR_RETURN(std::vector<Value*> less, Inline(*f_.root->called[0], arguments));
    return less[0];
  }

  // A scalar computation's instructions inlined in program order on `arguments` (by parameter
  // number); the values of its root's elements when it is a tuple, else of its root.
  StatusOr<std::vector<Value*>> Inline(const Computation& c, const std::vector<Value*>& arguments) {
    std::map<const Instruction*, Value*> values;
    for (const Instruction* p : c.parameters) values[p] = arguments[static_cast<size_t>(p->parameter_number)];
    local_ = &values;
    for (const auto& in : c.instructions) {
      if (in->opcode == Opcode::kParameter || (in.get() == c.root && in->opcode == Opcode::kTuple)) continue;
      StatusOr<Value*> v = Compute(*in, {});
      if (!v.ok()) {
        local_ = nullptr;
        return v.status();
      }
      values[in.get()] = *v;
    }
    local_ = nullptr;
    if (c.root->opcode != Opcode::kTuple) return std::vector<Value*>{values.at(c.root)};
    std::vector<Value*> out;
    for (const Instruction* o : c.root->operands) out.push_back(values.at(o));
    return out;
  }

  // A variadic reduction's output elements [begin, end): each output starts at its init value
  // and takes the reducer of itself and the inputs' elements, in row-major order of the
  // reduced dims (the interpreter's order, so that results are its bit for bit). The
  // accumulators live in the outputs, which LLVM keeps in registers through the loop.
  Status EmitVariadicReduce(Value* begin, Value* end) {
    const Instruction& r = *f_.root;
    const size_t n = r.operands.size() / 2;
    const Shape& result = r.shape.tuple_shapes[0];
    PJIT_RETURN_IF_ERROR(EmitLoop(begin, end, "reduce.row", [&](Value* row) -> Status {
      std::vector<Value*> index = Decompose(row, result, 0, result.rank());
      auto out_at = [&](size_t i) { return b_.CreateInBoundsGEP(StorageType(r.shape.tuple_shapes[i].dtype), outs_[i], row); };
      for (size_t i = 0; i < n; ++i) {
        PJIT_ASSIGN_OR_RETURN(Value* init, Element(r.operands[n + i], {}));
        StoreElement(r.shape.tuple_shapes[i].dtype, init, out_at(i));
      }
      return EmitLoop(b_.getInt64(0), b_.getInt64(ReducedCount(r)), "reduce.fold", [&](Value* k) -> Status {
        std::vector<Value*> arguments, at = ReducedIndex(r, index, k);
        for (size_t i = 0; i < n; ++i) arguments.push_back(LoadElement(r.shape.tuple_shapes[i].dtype, out_at(i), out_scope_, not_inputs_));
        for (size_t i = 0; i < n; ++i) {
          PJIT_ASSIGN_OR_RETURN(Value* x, Element(r.operands[i], at));
          arguments.push_back(x);
        }
        PJIT_ASSIGN_OR_RETURN(std::vector<Value*> folded, Inline(*r.called[0], arguments));
        for (size_t i = 0; i < n; ++i) StoreElement(r.shape.tuple_shapes[i].dtype, folded[i], out_at(i));
        return OkStatus();
      });
    }));
    b_.CreateRetVoid();
    return Verify();
  }

  // Unrolled at most 4 times: a row of constant length would otherwise be unrolled in full
  // (1024 floats: 64 vectors), and loads shared by a row's folds and its element pass then
  // spill to the stack; layernorm's kernel took 2.44 ms on two threads fully unrolled, 1.62
  // ms so (the chain and softmax unchanged).
  void LimitUnrolling(llvm::BranchInst* latch) {
    llvm::Metadata* count = llvm::MDNode::get(ctx_, {llvm::MDString::get(ctx_, "llvm.loop.unroll.count"), llvm::ConstantAsMetadata::get(b_.getInt32(4))});
    llvm::MDNode* loop = llvm::MDNode::getDistinct(ctx_, {nullptr, count});
    loop->replaceOperandWith(0, loop);
    latch->setMetadata(llvm::LLVMContext::MD_loop, loop);
  }

  Status Verify() {
    std::string errors;
    llvm::raw_string_ostream os(errors);
    if (llvm::verifyFunction(*fn_, &os)) return Internal(f_.name, ": invalid LLVM IR: ", errors);
    return OkStatus();
  }

  // for (i = begin; i < end; i += step) body(i), not entered when begin >= end; what the body
  // computes is not reused after the loop (it does not dominate what follows).
  Status EmitLoop(Value* begin, Value* end, const char* name, const std::function<Status(Value*)>& body, int64_t step = 1) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    llvm::BasicBlock* loop = llvm::BasicBlock::Create(ctx_, name, fn_);
    llvm::BasicBlock* done = llvm::BasicBlock::Create(ctx_, std::string(name) + ".done", fn_);
    b_.CreateCondBr(b_.CreateICmpSLT(begin, end), loop, done);
    b_.SetInsertPoint(loop);
    llvm::PHINode* i = b_.CreatePHI(b_.getInt64Ty(), 2, name);
    i->addIncoming(begin, pre);
    auto outside = cache_;
    PJIT_RETURN_IF_ERROR(body(i));
    Value* next = b_.CreateAdd(i, b_.getInt64(step));
    i->addIncoming(next, b_.GetInsertBlock());
    LimitUnrolling(b_.CreateCondBr(b_.CreateICmpSLT(next, end), loop, done));
    cache_ = std::move(outside);
    b_.SetInsertPoint(done);
    return OkStatus();
  }

  // A loop folding the elements of `r`'s input at `prefix` (r's output index) over its
  // reduced dims; the fold's value after the loop. The row is not empty.
  StatusOr<Value*> Fold(const Instruction& r, const std::vector<Value*>& prefix) {
    const DType t = r.shape.dtype;
    std::optional<Opcode> fold = SimpleReducer(*r.called[0]);
    PJIT_ASSIGN_OR_RETURN(Value* init, Element(r.operands[1], {}));
    // Float maximum/minimum fold with the bare intrinsics, a reduction LLVM vectorises (order
    // does not matter to them), and pass on the interpreter's NaN once, after the loop. The
    // first fold ignores the signs of zeros (nsz: one vmaxps and a NaN fix-up per vector on
    // x86, not six ops); where its result is a zero, whose sign then depends on the order it
    // met -0 and +0 in, the row is folded again with -0 < +0.
    const bool float_extreme =
        (*fold == Opcode::kMaximum || *fold == Opcode::kMinimum) && init->getType()->isFloatingPointTy() && t != DType::kF16 && !lane_;
    bool signless_zeros = true;
    auto step = [&](Value* col, Value* acc) -> StatusOr<Value*> {
      PJIT_ASSIGN_OR_RETURN(Value* x, Element(r.operands[0], ReducedIndex(r, prefix, col)));
      if (&r == scratch_fold_) StoreElement(r.operands[0]->shape.dtype, x, ScratchAddress(col));
      if (float_extreme) {
        Value* extreme = b_.CreateBinaryIntrinsic(*fold == Opcode::kMaximum ? llvm::Intrinsic::maximum : llvm::Intrinsic::minimum, acc, x);
        if (signless_zeros) llvm::cast<llvm::Instruction>(extreme)->setHasNoSignedZeros(true);
        return extreme;
      }
      Value* folded = Round(t, Binary(*fold, t, acc, x));
      // f32/f64 sums and products may be reassociated, so the loop vectorises with partial
      // accumulators (as XLA's do); the result then differs from a sequential fold by rounding.
      if (auto* op = llvm::dyn_cast<llvm::Instruction>(folded);
          op && t != DType::kBF16 && t != DType::kF16 && (op->getOpcode() == llvm::Instruction::FAdd || op->getOpcode() == llvm::Instruction::FMul))
        op->setHasAllowReassoc(true);
      return folded;
    };
    if (!lane_) {
      PJIT_ASSIGN_OR_RETURN(Value* folded, Accumulate("fold", ReducedCount(r), init, step));
      if (!float_extreme) return folded;
      llvm::BasicBlock* fast = b_.GetInsertBlock();
      llvm::BasicBlock* again = llvm::BasicBlock::Create(ctx_, "fold.zero", fn_);
      llvm::BasicBlock* done = llvm::BasicBlock::Create(ctx_, "fold.signed", fn_);
      b_.CreateCondBr(b_.CreateFCmpOEQ(folded, llvm::ConstantFP::get(folded->getType(), 0.0)), again, done);
      b_.SetInsertPoint(again);
      signless_zeros = false;
      PJIT_ASSIGN_OR_RETURN(Value* exact, Accumulate("fold.exact", ReducedCount(r), init, step));
      llvm::BasicBlock* exact_end = b_.GetInsertBlock();
      b_.CreateBr(done);
      b_.SetInsertPoint(done);
      llvm::PHINode* extreme = b_.CreatePHI(folded->getType(), 2, "extreme");
      extreme->addIncoming(folded, fast);
      extreme->addIncoming(exact, exact_end);
      return QuietNaN(extreme);
    }
    // Each lane folds every lanes-th element from the identity, the warp combines the lanes'
    // partials by butterfly shuffles (each step combines commutatively, so every lane ends with
    // the same bits), and the init value joins last.
    PJIT_ASSIGN_OR_RETURN(Value* partial, AccumulateStrided("fold", lane_, ReducedCount(r), lanes_, Identity(*fold, t, init->getType()), step));
    for (int64_t offset = lanes_ / 2; offset > 0; offset /= 2)
      partial = Round(t, Binary(*fold, t, partial, ShuffleXor(partial, static_cast<int>(offset))));
    return Round(t, Binary(*fold, t, init, partial));
  }

  // acc = step(k, acc) for k = begin, begin + stride, ... below count, from `init` (no step
  // when begin >= count); the value after the loop.
  StatusOr<Value*> AccumulateStrided(const char* name, Value* begin, int64_t count, int64_t stride, Value* init,
                                     const std::function<StatusOr<Value*>(Value* k, Value* acc)>& step) {
    auto outside = cache_;
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    llvm::BasicBlock* body = llvm::BasicBlock::Create(ctx_, name, fn_);
    llvm::BasicBlock* done = llvm::BasicBlock::Create(ctx_, std::string(name) + ".done", fn_);
    b_.CreateCondBr(b_.CreateICmpSLT(begin, b_.getInt64(count)), body, done);
    b_.SetInsertPoint(body);
    llvm::PHINode* k = b_.CreatePHI(b_.getInt64Ty(), 2, "k");
    k->addIncoming(begin, pre);
    llvm::PHINode* acc = b_.CreatePHI(init->getType(), 2, "acc");
    acc->addIncoming(init, pre);
    PJIT_ASSIGN_OR_RETURN(Value* next_acc, step(k, acc));
    Value* next = b_.CreateAdd(k, b_.getInt64(stride));
    k->addIncoming(next, b_.GetInsertBlock());
    acc->addIncoming(next_acc, b_.GetInsertBlock());
    llvm::BasicBlock* last = b_.GetInsertBlock();
    LimitUnrolling(b_.CreateCondBr(b_.CreateICmpSLT(next, b_.getInt64(count)), body, done));
    b_.SetInsertPoint(done);
    llvm::PHINode* result = b_.CreatePHI(init->getType(), 2, name);
    result->addIncoming(init, pre);
    result->addIncoming(next_acc, last);
    cache_ = std::move(outside);
    return result;
  }

  // The value x with `op`(x, y) == y for every y of `t` (computed in `type`).
  Value* Identity(Opcode op, DType t, llvm::Type* type) {
    const bool lowest = op == Opcode::kMaximum, highest = op == Opcode::kMinimum;
    if (type->isFloatingPointTy()) {
      if (lowest || highest) return llvm::ConstantFP::getInfinity(type, lowest);
      return op == Opcode::kMultiply ? llvm::ConstantFP::get(type, 1.0) : llvm::ConstantFP::getNegativeZero(type);  // -0 + -0 stays -0
    }
    const unsigned bits = type->getIntegerBitWidth();
    if (bits == 1) return b_.getInt1(op == Opcode::kMultiply || op == Opcode::kAnd || highest);  // pred: and-like ops start true
    if (lowest) return b_.getInt(IsSignedInt(t) ? llvm::APInt::getSignedMinValue(bits) : llvm::APInt::getMinValue(bits));
    if (highest) return b_.getInt(IsSignedInt(t) ? llvm::APInt::getSignedMaxValue(bits) : llvm::APInt::getMaxValue(bits));
    if (op == Opcode::kAnd) return b_.getInt(llvm::APInt::getAllOnes(bits));
    return llvm::ConstantInt::get(type, op == Opcode::kMultiply ? 1 : 0);
  }

  // v from the lane whose number differs from this one's in the bits of `offset` (a full warp
  // takes part), through 32-bit shuffles.
  Value* ShuffleXor(Value* v, int offset) {
    llvm::Type* type = v->getType();
    const unsigned bits = type->getPrimitiveSizeInBits();
    llvm::Type* int_type = b_.getIntNTy(bits);
    Value* i = type->isIntegerTy() ? v : b_.CreateBitCast(v, int_type);
    auto shuffle = [&](Value* word) {
      return b_.CreateIntrinsic(llvm::Intrinsic::nvvm_shfl_sync_bfly_i32, {},
                                {b_.getInt32(0xffffffffu), word, b_.getInt32(static_cast<uint32_t>(offset)), b_.getInt32(0x1f)});
    };
    Value* r;
    if (bits <= 32) {
      r = b_.CreateZExtOrTrunc(shuffle(b_.CreateZExtOrTrunc(i, b_.getInt32Ty())), int_type);
    } else {
      Value* low = shuffle(b_.CreateTrunc(i, b_.getInt32Ty()));
      Value* high = shuffle(b_.CreateTrunc(b_.CreateLShr(i, 32), b_.getInt32Ty()));
      r = b_.CreateOr(b_.CreateZExt(low, int_type), b_.CreateShl(b_.CreateZExt(high, int_type), 32));
    }
    return type->isIntegerTy() ? r : b_.CreateBitCast(r, type);
  }

  // acc = step(k, acc) for k in [0, count) from `init`, in a loop; the value after it. What
  // the steps compute is not reused after the loop (it does not dominate what follows).
  StatusOr<Value*> Accumulate(const char* name, int64_t count, Value* init, const std::function<StatusOr<Value*>(Value* k, Value* acc)>& step) {
    return AccumulateStrided(name, b_.getInt64(0), count, 1, init, step);
  }

  // A loop folding the window of the element at `index` in row-major window order, from the
  // init value; positions in the padding or between base-dilated elements are skipped (the
  // load is clamped inside and its value not used), as the interpreter does. Never
  // reassociated: the result is the interpreter's bit for bit.
  StatusOr<Value*> ReduceWindow(const Instruction& r, const std::vector<Value*>& index) {
    const DType t = r.shape.dtype;
    const Shape& from = r.operands[0]->shape;
    std::optional<Opcode> fold = SimpleReducer(*r.called[0]);
    PJIT_ASSIGN_OR_RETURN(Value* init, Element(r.operands[1], {}));
    int64_t count = 1;
    for (const WindowDimension& w : r.window) count *= w.size;
    if (count == 0 || from.ElementCount() == 0) return init;
    return Accumulate("window", count, init, [&](Value* k, Value* acc) -> StatusOr<Value*> {
      Value* rest = k;
      Value* inside = b_.getTrue();
      std::vector<Value*> at(index.size());
      for (size_t d = index.size(); d-- > 0;) {
        const WindowDimension& w = r.window[d];
        Value* wi = b_.CreateURem(rest, b_.getInt64(w.size));
        rest = b_.CreateUDiv(rest, b_.getInt64(w.size));
        at[d] = WindowPosition(index[d], wi, w, from.dims[d], inside);
      }
      PJIT_ASSIGN_OR_RETURN(Value* x, Element(r.operands[0], at));
      return b_.CreateSelect(inside, Round(t, Binary(*fold, t, acc, x)), acc);
    });
  }

  // The input index a window position reaches for output index `out` and window index `wi`
  // (clamped inside the input of `extent`); `inside` is and-ed with whether it is an input
  // element rather than padding or a gap between base-dilated elements.
  Value* WindowPosition(Value* out, Value* wi, const WindowDimension& w, int64_t extent, Value*& inside) {
    Value* pos = b_.CreateAdd(b_.CreateSub(b_.CreateMul(out, b_.getInt64(w.stride)), b_.getInt64(w.padding_low)),
                              b_.CreateMul(wi, b_.getInt64(w.window_dilation)));
    inside = b_.CreateAnd(inside, b_.CreateICmpSGE(pos, b_.getInt64(0)));
    if (w.base_dilation > 1) {
      inside = b_.CreateAnd(inside, b_.CreateICmpEQ(b_.CreateSRem(pos, b_.getInt64(w.base_dilation)), b_.getInt64(0)));
      pos = b_.CreateSDiv(pos, b_.getInt64(w.base_dilation));
    }
    inside = b_.CreateAnd(inside, b_.CreateICmpSLT(pos, b_.getInt64(extent)));
    return ClampIndex(pos, 0, extent - 1);
  }

  // A loop over the window positions of the element at `index` (row-major) and, inside, the
  // input features of its group, summing input × kernel in double and rounding once, as the interpreter
  // does (so the result is its bit for bit); positions in the padding or between
  // base-dilated elements add nothing.
  StatusOr<Value*> Convolution(const Instruction& c, const std::vector<Value*>& index) {
    const ConvolutionDimensionNumbers& d = c.conv_dims;
    const Shape& xs = c.operands[0]->shape;
    const Shape& ks = c.operands[1]->shape;
    const size_t ns = d.input_spatial.size();
    const int64_t features = ks.dims[d.kernel_input_feature];
    int64_t count = features;
    for (size_t s = 0; s < ns; ++s) count *= ks.dims[d.kernel_spatial[s]];
    llvm::Type* f64 = b_.getDoubleTy();
    Value* zero = llvm::ConstantFP::get(f64, 0.0);
    auto rounded = [&](Value* sum) { return c.shape.dtype == DType::kF64 ? sum : b_.CreateFPTrunc(sum, ComputeType(c.shape.dtype)); };
    if (count == 0 || xs.ElementCount() == 0) return rounded(zero);
    PJIT_ASSIGN_OR_RETURN(Value* sum, Accumulate("conv", count, zero, [&](Value* k, Value* acc) -> StatusOr<Value*> {
      std::vector<Value*> xi(static_cast<size_t>(xs.rank())), ki(static_cast<size_t>(ks.rank()));
      Value* feature = b_.CreateURem(k, b_.getInt64(features));
      Value* rest = b_.CreateUDiv(k, b_.getInt64(features));
      Value* inside = b_.getTrue();
      for (size_t s = ns; s-- > 0;) {
        const WindowDimension& w = c.window[s];
        const int64_t size = ks.dims[d.kernel_spatial[s]];
        Value* wi = b_.CreateURem(rest, b_.getInt64(size));
        rest = b_.CreateUDiv(rest, b_.getInt64(size));
        xi[d.input_spatial[s]] = WindowPosition(index[d.output_spatial[s]], wi, w, xs.dims[d.input_spatial[s]], inside);
        ki[d.kernel_spatial[s]] = w.window_reversal ? b_.CreateSub(b_.getInt64(size - 1), wi) : wi;
      }
      // Feature groups read their slice of the input features, batch groups their slice of
      // the batch (the output feature says which group).
      Value* o = index[d.output_feature];
      const int64_t out_features = ks.dims[d.kernel_output_feature];
      Value* fgroup = b_.CreateUDiv(o, b_.getInt64(out_features / c.feature_group_count));
      Value* bgroup = b_.CreateUDiv(o, b_.getInt64(out_features / c.batch_group_count));
      xi[d.input_batch] = b_.CreateAdd(b_.CreateMul(bgroup, b_.getInt64(xs.dims[d.input_batch] / c.batch_group_count)), index[d.output_batch]);
      xi[d.input_feature] = b_.CreateAdd(b_.CreateMul(fgroup, b_.getInt64(features)), feature);
      ki[d.kernel_output_feature] = o;
      ki[d.kernel_input_feature] = feature;
      PJIT_ASSIGN_OR_RETURN(Value* x, Element(c.operands[0], xi));
      PJIT_ASSIGN_OR_RETURN(Value* kv, Element(c.operands[1], ki));
      if (x->getType() != f64) x = b_.CreateFPExt(x, f64);
      if (kv->getType() != f64) kv = b_.CreateFPExt(kv, f64);
      return b_.CreateSelect(inside, b_.CreateFAdd(acc, b_.CreateFMul(x, kv)), acc);
    }));
    return rounded(sum);
  }

  llvm::Type* StorageType(DType t) {
    switch (t) {
      case DType::kPred: case DType::kS8: case DType::kU8: return b_.getInt8Ty();
      case DType::kS16: case DType::kU16: case DType::kBF16: case DType::kF16: return b_.getInt16Ty();
      case DType::kS32: case DType::kU32: return b_.getInt32Ty();
      case DType::kS64: case DType::kU64: return b_.getInt64Ty();
      case DType::kF32: return b_.getFloatTy();
      default: return b_.getDoubleTy();
    }
  }
  // The type values of `t` are computed in.
  llvm::Type* ComputeType(DType t) {
    if (t == DType::kPred) return b_.getInt1Ty();
    if (t == DType::kBF16 || t == DType::kF16) return b_.getFloatTy();
    return StorageType(t);
  }

  // An element of an input (or, with the output's scopes, of the output) in its compute type.
  Value* LoadElement(DType t, Value* address, llvm::MDNode* scope, llvm::MDNode* noalias) {
    llvm::LoadInst* load = b_.CreateLoad(StorageType(t), address);
    load->setMetadata(llvm::LLVMContext::MD_alias_scope, scope);
    load->setMetadata(llvm::LLVMContext::MD_noalias, noalias);
    Value* v = load;
    if (t == DType::kPred) return b_.CreateICmpNE(v, b_.getInt8(0));
    if (t == DType::kBF16) return b_.CreateBitCast(b_.CreateShl(b_.CreateZExt(v, b_.getInt32Ty()), 16), b_.getFloatTy());
    if (t == DType::kF16) return b_.CreateFPExt(b_.CreateBitCast(v, b_.getHalfTy()), b_.getFloatTy());
    return v;
  }

  // bfloat16 bits of a float: round to nearest even; NaNs stay quiet NaNs.
  Value* ToBF16Bits(Value* f) {
    Value* u = b_.CreateBitCast(f, b_.getInt32Ty());
    Value* lsb = b_.CreateAnd(b_.CreateLShr(u, 16), b_.getInt32(1));
    Value* rounded = b_.CreateLShr(b_.CreateAdd(u, b_.CreateAdd(lsb, b_.getInt32(0x7fff))), 16);
    Value* nan = b_.CreateOr(b_.CreateLShr(u, 16), b_.getInt32(0x40));
    return b_.CreateTrunc(b_.CreateSelect(b_.CreateFCmpUNO(f, f), nan, rounded), b_.getInt16Ty());
  }

  void StoreElement(DType t, Value* v, Value* address, llvm::MDNode* scope = nullptr) {
    if (t == DType::kPred) v = b_.CreateZExt(v, b_.getInt8Ty());
    if (t == DType::kBF16) {
      auto rounded = bf16_bits_.find(v);  // a rounded value's bits are the bits it was rounded to
      v = rounded != bf16_bits_.end() ? rounded->second : ToBF16Bits(v);
    }
    if (t == DType::kF16) v = b_.CreateBitCast(b_.CreateFPTrunc(v, b_.getHalfTy()), b_.getInt16Ty());
    llvm::StoreInst* store = b_.CreateStore(v, address);
    store->setMetadata(llvm::LLVMContext::MD_alias_scope, scope ? scope : out_scope_);
    store->setMetadata(llvm::LLVMContext::MD_noalias, not_inputs_);
  }

  // Element `col` of this row's scratch: the output row's, or the stack's when streaming.
  Value* ScratchAddress(Value* col) {
    llvm::Type* t = StorageType(f_.root->shape.dtype);
    return stack_scratch_ ? b_.CreateInBoundsGEP(t, stack_scratch_, col) : b_.CreateInBoundsGEP(t, out_, b_.CreateAdd(scratch_row_base_, col));
  }

  Value* QuietNaN(Value* v) { return b_.CreateSelect(b_.CreateFCmpUNO(v, v), llvm::ConstantFP::getNaN(v->getType()), v); }

  // bfloat16 and half results round once per op, as the interpreter and XLA do.
  Value* Round(DType t, Value* v) {
    if (t == DType::kF16) return b_.CreateFPExt(b_.CreateFPTrunc(v, b_.getHalfTy()), b_.getFloatTy());
    if (t != DType::kBF16) return v;
    Value* bits = ToBF16Bits(v);
    Value* rounded = b_.CreateBitCast(b_.CreateShl(b_.CreateZExt(bits, b_.getInt32Ty()), 16), b_.getFloatTy());
    bf16_bits_[rounded] = bits;
    return rounded;
  }

  // The multi-index over dims [first, last) of `s` of a row-major position among them.
  std::vector<Value*> Decompose(Value* position, const Shape& s, int64_t first, int64_t last) {
    std::vector<Value*> index(static_cast<size_t>(std::max<int64_t>(last - first, 0)));
    Value* rest = position;
    for (int64_t d = last - 1; d >= first; --d) {
      Value* n = b_.getInt64(s.dims[static_cast<size_t>(d)]);
      index[static_cast<size_t>(d - first)] = d == first ? rest : b_.CreateURem(rest, n);
      if (d > first) rest = b_.CreateUDiv(rest, n);
    }
    return index;
  }

  Value* Linear(const Shape& s, const std::vector<Value*>& index) {
    Value* linear = b_.getInt64(0);
    for (size_t d = 0; d < s.dims.size(); ++d)
      linear = b_.CreateAdd(b_.CreateMul(linear, b_.getInt64(s.dims[d])), index[d]);
    return linear;
  }

  llvm::FunctionCallee LibM(const char* name, DType t, unsigned arity) {
    llvm::Type* f = ComputeType(t);
    std::string symbol = std::string(name) + (f->isFloatTy() ? "f" : "");
    return m_.getOrInsertFunction(symbol, llvm::FunctionType::get(f, std::vector<llvm::Type*>(arity, f), false));
  }

  StatusOr<Value*> Element(const Instruction* in, const std::vector<Value*>& index) {
    if (local_) return local_->at(in);  // inside a comparator: its values so far
    if (auto row_value = row_value_.find(in); row_value != row_value_.end()) return row_value->second;
    if (in == scratch_ && scratch_ready_)  // the row's fold left it in the scratch row
      return LoadElement(in->shape.dtype, ScratchAddress(b_.CreateSub(Linear(in->shape, index), scratch_row_base_)), out_scope_, not_inputs_);
    if (!members_.count(in)) {
      auto base = base_.find(in);
      if (base == base_.end()) return Internal(f_.name, ": ", in->name, " is neither a member nor an input");
      std::vector<Value*> i = in->shape.rank() ? index : std::vector<Value*>{};
      return LoadElement(in->shape.dtype, b_.CreateInBoundsGEP(StorageType(in->shape.dtype), base->second, Linear(in->shape, i)),
                         load_scope_.at(in), not_out_);
    }
    auto key = std::make_pair(in, index);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    PJIT_ASSIGN_OR_RETURN(Value* v, Compute(*in, index));
    cache_[key] = v;
    return v;
  }

  // Operand i at the element `index` of `in`: scalars broadcast implicitly (select, clamp).
  StatusOr<Value*> Operand(const Instruction& in, size_t i, const std::vector<Value*>& index) {
    const Instruction* o = in.operands[i];
    return Element(o, o->shape.rank() == 0 ? std::vector<Value*>{} : index);
  }

  StatusOr<Value*> Compute(const Instruction& in, const std::vector<Value*>& index) {
    const DType t = in.shape.dtype;
    switch (in.opcode) {
      case Opcode::kConstant: {
        llvm::Type* ct = ComputeType(t);
        if (ct->isFloatingPointTy()) return llvm::ConstantFP::get(ct, in.literal.GetAsDouble(0));
        return llvm::ConstantInt::get(ct, static_cast<uint64_t>(in.literal.GetAsInt64(0)));
      }
      case Opcode::kIota: return FromIndex(t, index[static_cast<size_t>(in.dimensions[0])]);
      case Opcode::kBroadcast: {
        std::vector<Value*> o;
        for (int64_t d : in.dimensions) o.push_back(index[static_cast<size_t>(d)]);
        return Element(in.operands[0], o);
      }
      case Opcode::kReshape: {
        const Shape& from = in.operands[0]->shape;
        return Element(in.operands[0], Decompose(Linear(in.shape, index), from, 0, from.rank()));
      }
      case Opcode::kTranspose: {
        std::vector<Value*> o(index.size());
        for (size_t i = 0; i < in.dimensions.size(); ++i) o[static_cast<size_t>(in.dimensions[i])] = index[i];
        return Element(in.operands[0], o);
      }
      case Opcode::kSlice: {
        std::vector<Value*> o(index.size());
        for (size_t d = 0; d < index.size(); ++d)
          o[d] = b_.CreateAdd(b_.CreateMul(index[d], b_.getInt64(in.slice[d].stride)), b_.getInt64(in.slice[d].start));
        return Element(in.operands[0], o);
      }
      case Opcode::kReverse: {
        std::vector<Value*> o = index;
        for (int64_t d : in.dimensions) o[static_cast<size_t>(d)] = b_.CreateSub(b_.getInt64(in.shape.dims[static_cast<size_t>(d)] - 1), index[static_cast<size_t>(d)]);
        return Element(in.operands[0], o);
      }
      case Opcode::kPad: return Pad(in, index);
      case Opcode::kGather: return Gather(in, index);
      case Opcode::kReduceWindow: return ReduceWindow(in, index);
      case Opcode::kConvolution: return Convolution(in, index);
      case Opcode::kConcatenate: return Concatenate(in, index);
      case Opcode::kDynamicSlice: {
        PJIT_ASSIGN_OR_RETURN(std::vector<Value*> starts, ClampedStarts(in, 1, in.shape.dims));
        std::vector<Value*> o(index.size());
        for (size_t d = 0; d < index.size(); ++d) o[d] = b_.CreateAdd(index[d], starts[d]);
        return Element(in.operands[0], o);
      }
      case Opcode::kDynamicUpdateSlice: return DynamicUpdateSlice(in, index);
      case Opcode::kConvert: {
        PJIT_ASSIGN_OR_RETURN(Value* x, Operand(in, 0, index));
        return Round(t, Convert(x, in.operands[0]->shape.dtype, t));
      }
      case Opcode::kSelect: {
        PJIT_ASSIGN_OR_RETURN(Value* p, Operand(in, 0, index));
        PJIT_ASSIGN_OR_RETURN(Value* x, Operand(in, 1, index));
        PJIT_ASSIGN_OR_RETURN(Value* y, Operand(in, 2, index));
        return b_.CreateSelect(p, x, y);
      }
      case Opcode::kClamp: {
        PJIT_ASSIGN_OR_RETURN(Value* lo, Operand(in, 0, index));
        PJIT_ASSIGN_OR_RETURN(Value* x, Operand(in, 1, index));
        PJIT_ASSIGN_OR_RETURN(Value* hi, Operand(in, 2, index));
        return Binary(Opcode::kMinimum, t, Binary(Opcode::kMaximum, t, x, lo), hi);
      }
      case Opcode::kIsFinite: {  // |x| < inf: false for NaN too
        PJIT_ASSIGN_OR_RETURN(Value* x, Operand(in, 0, index));
        return b_.CreateFCmpOLT(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x), llvm::ConstantFP::getInfinity(x->getType()));
      }
      case Opcode::kCompare: {
        PJIT_ASSIGN_OR_RETURN(Value* x, Operand(in, 0, index));
        PJIT_ASSIGN_OR_RETURN(Value* y, Operand(in, 1, index));
        return Compare(in.comparison_direction, in.comparison_type == ComparisonType::kTotalOrder, in.operands[0]->shape.dtype, x, y);
      }
      default:
        break;
    }
    if (in.operands.size() == 1) {
      PJIT_ASSIGN_OR_RETURN(Value* x, Operand(in, 0, index));
      return Round(t, Unary(in.opcode, t, x));
    }
    PJIT_ASSIGN_OR_RETURN(Value* x, Operand(in, 0, index));
    PJIT_ASSIGN_OR_RETURN(Value* y, Operand(in, 1, index));
    return Round(t, Binary(in.opcode, t, x, y));
  }

  Value* ClampIndex(Value* i, int64_t lo, int64_t hi) {
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, i, b_.getInt64(lo)), b_.getInt64(hi));
  }

  // A start index of integer type `t`, clamped to [0, hi] (an unsigned one compared as
  // unsigned, so that values past 2^63 clamp to hi).
  Value* StartIndex(Value* v, DType t, int64_t hi) {
    if (IsSignedInt(t)) return ClampIndex(b_.CreateSExtOrTrunc(v, b_.getInt64Ty()), 0, hi);
    return b_.CreateBinaryIntrinsic(llvm::Intrinsic::umin, b_.CreateZExtOrTrunc(v, b_.getInt64Ty()), b_.getInt64(hi));
  }

  // The start indices of a dynamic (update) slice from its scalar operands first, first+1, ...,
  // clamped as XLA does so that the window of `sizes` lies inside the operand.
  StatusOr<std::vector<Value*>> ClampedStarts(const Instruction& in, size_t first, const std::vector<int64_t>& sizes) {
    std::vector<Value*> starts;
    const Shape& full = in.operands[0]->shape;
    for (size_t d = 0; d < sizes.size(); ++d) {
      const Instruction* s = in.operands[first + d];
      PJIT_ASSIGN_OR_RETURN(Value* v, Element(s, {}));
      starts.push_back(StartIndex(v, s->shape.dtype, full.dims[d] - sizes[d]));
    }
    return starts;
  }

  // The operand's element at the output element's start (read from the indices at its batch
  // index, clamped so that the slice fits, as XLA clamps it) plus its offset within the slice.
  StatusOr<Value*> Gather(const Instruction& in, const std::vector<Value*>& index) {
    const GatherDimensionNumbers& d = in.gather_dims;
    const Shape& operand = in.operands[0]->shape;
    const Instruction* ids = in.operands[1];
    std::vector<Value*> batch, offsets;
    for (size_t i = 0; i < index.size(); ++i)
      (std::find(d.offset_dims.begin(), d.offset_dims.end(), static_cast<int64_t>(i)) != d.offset_dims.end() ? offsets : batch)
          .push_back(index[i]);
    std::vector<Value*> at(static_cast<size_t>(operand.rank()), b_.getInt64(0));
    for (size_t k = 0; k < d.start_index_map.size(); ++k) {
      std::vector<Value*> where = batch;
      if (d.index_vector_dim < ids->shape.rank()) where.insert(where.begin() + d.index_vector_dim, b_.getInt64(static_cast<int64_t>(k)));
      PJIT_ASSIGN_OR_RETURN(Value* v, Element(ids, where));
      const int64_t dim = d.start_index_map[k];
      at[static_cast<size_t>(dim)] = StartIndex(v, ids->shape.dtype, operand.dims[dim] - in.slice_sizes[dim]);
    }
    size_t next = 0;
    for (int64_t dim = 0; dim < operand.rank(); ++dim)
      if (std::find(d.collapsed_slice_dims.begin(), d.collapsed_slice_dims.end(), dim) == d.collapsed_slice_dims.end())
        at[static_cast<size_t>(dim)] = b_.CreateAdd(at[static_cast<size_t>(dim)], offsets[next++]);
    return Element(in.operands[0], at);
  }

  // The operand's element where the index falls on one (low edge, then every interior+1-th
  // position), else the padding value; indices are clamped so that every load stays inside.
  StatusOr<Value*> Pad(const Instruction& in, const std::vector<Value*>& index) {
    PJIT_ASSIGN_OR_RETURN(Value* padding, Element(in.operands[1], {}));
    const Shape& from = in.operands[0]->shape;
    if (from.ElementCount() == 0) return padding;
    Value* inside = b_.getTrue();
    std::vector<Value*> o(index.size());
    for (size_t d = 0; d < index.size(); ++d) {
      const PaddingDim& p = in.padding[d];
      Value* shifted = b_.CreateSub(index[d], b_.getInt64(p.low));
      Value* step = b_.getInt64(p.interior + 1);
      Value* q = p.interior ? b_.CreateSDiv(shifted, step) : shifted;
      Value* ok = b_.CreateAnd(b_.CreateICmpSGE(shifted, b_.getInt64(0)), b_.CreateICmpSLT(q, b_.getInt64(from.dims[d])));
      if (p.interior) ok = b_.CreateAnd(ok, b_.CreateICmpEQ(b_.CreateSRem(shifted, step), b_.getInt64(0)));
      inside = b_.CreateAnd(inside, ok);
      o[d] = ClampIndex(q, 0, from.dims[d] - 1);
    }
    PJIT_ASSIGN_OR_RETURN(Value* x, Element(in.operands[0], o));
    return b_.CreateSelect(inside, x, padding);
  }

  // The operand whose range along the concatenated dim holds the index: a select over all of
  // them (each load clamped inside its operand) so that the loop stays branch-free.
  StatusOr<Value*> Concatenate(const Instruction& in, const std::vector<Value*>& index) {
    const size_t dim = static_cast<size_t>(in.dimensions[0]);
    Value* result = nullptr;
    int64_t offset = in.shape.dims[dim];
    for (size_t i = in.operands.size(); i-- > 0;) {
      const Instruction* o = in.operands[i];
      const int64_t n = o->shape.dims[dim];
      offset -= n;
      if (n == 0) continue;
      std::vector<Value*> at = index;
      at[dim] = ClampIndex(b_.CreateSub(index[dim], b_.getInt64(offset)), 0, n - 1);
      PJIT_ASSIGN_OR_RETURN(Value* x, Element(o, at));
      result = result ? b_.CreateSelect(b_.CreateICmpSLT(index[dim], b_.getInt64(offset + n)), x, result) : x;
    }
    return result ? result : llvm::Constant::getNullValue(ComputeType(in.shape.dtype));  // no elements at all
  }

  StatusOr<Value*> DynamicUpdateSlice(const Instruction& in, const std::vector<Value*>& index) {
    PJIT_ASSIGN_OR_RETURN(Value* x, Element(in.operands[0], index));
    const Shape& update = in.operands[1]->shape;
    if (update.ElementCount() == 0) return x;
    PJIT_ASSIGN_OR_RETURN(std::vector<Value*> starts, ClampedStarts(in, 2, update.dims));
    Value* inside = b_.getTrue();
    std::vector<Value*> u(index.size());
    for (size_t d = 0; d < index.size(); ++d) {
      Value* shifted = b_.CreateSub(index[d], starts[d]);
      inside = b_.CreateAnd(inside, b_.CreateAnd(b_.CreateICmpSGE(shifted, b_.getInt64(0)), b_.CreateICmpSLT(shifted, b_.getInt64(update.dims[d]))));
      u[d] = ClampIndex(shifted, 0, update.dims[d] - 1);
    }
    PJIT_ASSIGN_OR_RETURN(Value* y, Element(in.operands[1], u));
    return b_.CreateSelect(inside, y, x);
  }

  Value* FromIndex(DType t, Value* i) {
    llvm::Type* ct = ComputeType(t);
    if (t == DType::kPred) return b_.CreateICmpNE(i, b_.getInt64(0));
    if (ct->isFloatingPointTy()) return Round(t, b_.CreateSIToFP(i, ct));
    return b_.CreateTrunc(i, ct);
  }

  Value* Convert(Value* x, DType from, DType to) {
    llvm::Type* ft = ComputeType(from);
    llvm::Type* tt = ComputeType(to);
    bool ffloat = ft->isFloatingPointTy(), tfloat = tt->isFloatingPointTy();
    if (to == DType::kPred) return ffloat ? b_.CreateFCmpUNE(x, llvm::ConstantFP::get(ft, 0.0)) : b_.CreateICmpNE(x, llvm::ConstantInt::get(ft, 0));
    if (ffloat && tfloat) return b_.CreateFPCast(x, tt);
    if (ffloat) {
      auto id = IsSignedInt(to) ? llvm::Intrinsic::fptosi_sat : llvm::Intrinsic::fptoui_sat;
      return b_.CreateIntrinsic(id, {tt, ft}, {x});
    }
    bool sign = IsSignedInt(from);
    if (tfloat) return sign ? b_.CreateSIToFP(x, tt) : b_.CreateUIToFP(x, tt);
    return b_.CreateIntCast(x, tt, sign);
  }

  // `total_order` orders floats as their TotalOrderKey: signed integers from their bits, the
  // magnitude bits of negative ones flipped (-NaN < -inf < ... < -0 < +0 < ... < inf < NaN).
  Value* Compare(ComparisonDirection dir, bool total_order, DType t, Value* x, Value* y) {
    using P = llvm::CmpInst::Predicate;
    llvm::Type* ct = ComputeType(t);
    if (ct->isFloatingPointTy() && total_order) {
      llvm::Type* it = b_.getIntNTy(ct->getPrimitiveSizeInBits());
      auto key = [&](Value* v) {
        Value* bits = b_.CreateBitCast(v, it);
        Value* flipped = b_.CreateXor(bits, llvm::ConstantInt::get(it, llvm::APInt::getSignedMaxValue(it->getIntegerBitWidth())));
        return b_.CreateSelect(b_.CreateICmpSLT(bits, llvm::ConstantInt::get(it, 0)), flipped, bits);
      };
      return Compare(dir, false, DType::kS64, key(x), key(y));  // signed, whatever the width
    }
    if (ct->isFloatingPointTy()) {
      static const std::map<ComparisonDirection, P> f = {
          {ComparisonDirection::kEq, P::FCMP_OEQ}, {ComparisonDirection::kNe, P::FCMP_UNE}, {ComparisonDirection::kLt, P::FCMP_OLT},
          {ComparisonDirection::kLe, P::FCMP_OLE}, {ComparisonDirection::kGt, P::FCMP_OGT}, {ComparisonDirection::kGe, P::FCMP_OGE}};
      return b_.CreateFCmp(f.at(dir), x, y);
    }
    bool sign = IsSignedInt(t);
    static const std::map<ComparisonDirection, std::pair<P, P>> i = {
        {ComparisonDirection::kEq, {P::ICMP_EQ, P::ICMP_EQ}}, {ComparisonDirection::kNe, {P::ICMP_NE, P::ICMP_NE}},
        {ComparisonDirection::kLt, {P::ICMP_SLT, P::ICMP_ULT}}, {ComparisonDirection::kLe, {P::ICMP_SLE, P::ICMP_ULE}},
        {ComparisonDirection::kGt, {P::ICMP_SGT, P::ICMP_UGT}}, {ComparisonDirection::kGe, {P::ICMP_SGE, P::ICMP_UGE}}};
    const auto& p = i.at(dir);
    return b_.CreateICmp(sign ? p.first : p.second, x, y);
  }

  Value* Unary(Opcode op, DType t, Value* x) {
    llvm::Type* ct = ComputeType(t);
    if (t == DType::kPred) return op == Opcode::kNot ? b_.CreateNot(x) : x;
    if (ct->isFloatingPointTy()) {
      auto one = llvm::ConstantFP::get(ct, 1.0);
      auto zero = llvm::ConstantFP::get(ct, 0.0);
      switch (op) {
        case Opcode::kAbs: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
        case Opcode::kNegate: return b_.CreateFNeg(x);
        case Opcode::kSign: {
          Value* s = b_.CreateSelect(b_.CreateFCmpOGT(x, zero), one,
                                     b_.CreateSelect(b_.CreateFCmpOLT(x, zero), llvm::ConstantFP::get(ct, -1.0), x));
          return s;  // NaN and ±0 stay themselves
        }
        case Opcode::kExp: return Exp(x);
        case Opcode::kLog: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::log, x);
        case Opcode::kSqrt: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
        case Opcode::kRsqrt: return b_.CreateFDiv(one, b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x));
        case Opcode::kTanh: return Tanh(x);
        case Opcode::kLogistic: return b_.CreateFDiv(one, b_.CreateFAdd(one, Exp(b_.CreateFNeg(x))));
        case Opcode::kSin: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::sin, x);
        case Opcode::kCos: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::cos, x);
        case Opcode::kFloor: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, x);
        case Opcode::kCeil: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::ceil, x);
        case Opcode::kRoundNearestEven: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven, x);
        case Opcode::kRoundNearestAfz: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::round, x);
        case Opcode::kExpm1: return b_.CreateCall(LibM("expm1", t, 1), {x});
        case Opcode::kLog1p: return b_.CreateCall(LibM("log1p", t, 1), {x});
        case Opcode::kErf: return b_.CreateCall(LibM("erf", t, 1), {x});
        case Opcode::kCbrt: return b_.CreateCall(LibM("cbrt", t, 1), {x});
        case Opcode::kTan: return b_.CreateCall(LibM("tan", t, 1), {x});
        default: return x;
      }
    }
    auto zero = llvm::ConstantInt::get(ct, 0);
    switch (op) {
      case Opcode::kAbs: return IsSignedInt(t) ? b_.CreateSelect(b_.CreateICmpSLT(x, zero), b_.CreateNeg(x), x) : x;
      case Opcode::kNegate: return b_.CreateNeg(x);
      case Opcode::kSign:
        if (!IsSignedInt(t)) return b_.CreateZExt(b_.CreateICmpUGT(x, zero), ct);
        return b_.CreateSub(b_.CreateZExt(b_.CreateICmpSGT(x, zero), ct), b_.CreateZExt(b_.CreateICmpSLT(x, zero), ct));
      case Opcode::kNot: return b_.CreateNot(x);
      case Opcode::kPopcnt: return b_.CreateUnaryIntrinsic(llvm::Intrinsic::ctpop, x);
      case Opcode::kClz: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::ctlz, x, b_.getFalse());  // the width for 0
      default: return x;
    }
  }

  // llvm.maximum/minimum's semantics (and the interpreter's NaN) by compares and selects, for
  // half: LLVM narrows the intrinsic on widened halves back to half, and x86's lowering of
  // vectors of it loses NaNs (LLVM 19; seen as clamp(0, NaN, 0) = 0).
  Value* SelectExtreme(bool maximum, Value* x, Value* y) {
    llvm::Type* it = b_.getIntNTy(x->getType()->getPrimitiveSizeInBits());
    Value* x_negative = b_.CreateICmpSLT(b_.CreateBitCast(x, it), llvm::ConstantInt::get(it, 0));
    // On equal values (±0 included) the maximum is the non-negative one, the minimum the other.
    Value* tie = maximum ? b_.CreateSelect(x_negative, y, x) : b_.CreateSelect(x_negative, x, y);
    Value* pick = b_.CreateSelect(maximum ? b_.CreateFCmpOGT(x, y) : b_.CreateFCmpOLT(x, y), x, b_.CreateSelect(b_.CreateFCmpOEQ(x, y), tie, y));
    return b_.CreateSelect(b_.CreateFCmpUNO(x, y), llvm::ConstantFP::getNaN(x->getType()), pick);
  }

  // c0 + x·(c1 + x·(c2 + ...)), coefficients lowest first.
  Value* Polynomial(Value* x, const std::vector<double>& c) {
    llvm::Type* t = x->getType();
    Value* p = llvm::ConstantFP::get(t, c.back());
    for (size_t i = c.size() - 1; i-- > 0;) p = MulAdd(p, x, llvm::ConstantFP::get(t, c[i]));
    return p;
  }
  // a·b + c, one fused instruction where the CPU has one (and then rounded once), else two:
  // only inside the approximations, whose error budgets hold either way.
  Value* MulAdd(Value* a, Value* b, Value* c) { return b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {a->getType()}, {a, b, c}); }
  Value* Clamp(Value* x, double lo, double hi) {
    llvm::Type* t = x->getType();
    Value* l = llvm::ConstantFP::get(t, lo);
    Value* h = llvm::ConstantFP::get(t, hi);
    x = b_.CreateSelect(b_.CreateFCmpOLT(x, l), l, x);
    return b_.CreateSelect(b_.CreateFCmpOGT(x, h), h, x);
  }

  // float exp without a libm call, so loops vectorise: Cephes' range reduction to
  // r = x - n·ln2 (ln2 in two parts), 1 + r + r²·P(r) in Horner form with P of degree 4 (a
  // minimax fit of the relative error over |r| <= ln2/2: 0.05 ulp), scaled by 2^n as two powers of
  // two so that n from -150 to 128 needs no special case: past the clamp the arithmetic itself
  // overflows to inf and underflows to 0, and a NaN passes through it. n is rounded by adding
  // 1.5·2^23 (in one fused step where the CPU has it), whose float then holds n in its low
  // bits: n + 254, split in two biased exponents (n1 + 127) + (n2 + 127), without a
  // float-to-int conversion (poison for NaN). At most 1 ulp from the true value, subnormals
  // included (codegen_test checks every 997th float, every one with PJIT_EXHAUSTIVE=1); double
  // keeps libm's exp.
  Value* Exp(Value* x) {
    if (!x->getType()->isFloatTy()) return b_.CreateUnaryIntrinsic(llvm::Intrinsic::exp, x);
    llvm::Type* f = x->getType();
    llvm::Type* i32 = b_.getInt32Ty();
    Value* xc = Clamp(x, -104.0, 88.8);
    Value* shifter = llvm::ConstantFP::get(f, 12582912.0);
    Value* k = MulAdd(xc, llvm::ConstantFP::get(f, 1.44269504088896341), shifter);
    Value* n = b_.CreateFSub(k, shifter);
    Value* r = MulAdd(n, llvm::ConstantFP::get(f, -0.693359375), xc);
    r = MulAdd(n, llvm::ConstantFP::get(f, 2.12194440e-4), r);
    Value* p = Polynomial(r, {4.9999994040e-01, 1.6666519642e-01, 4.1668403894e-02, 8.3687473089e-03, 1.3813638361e-03});
    Value* one = llvm::ConstantFP::get(f, 1.0);
    Value* y = MulAdd(MulAdd(p, r, one), r, one);
    Value* biased = b_.CreateSub(b_.CreateBitCast(k, i32), b_.getInt32(0x4B400000 - 254));  // n + 254
    Value* e1 = b_.CreateAShr(biased, 1);
    Value* e2 = b_.CreateSub(biased, e1);
    auto power = [&](Value* e) { return b_.CreateBitCast(b_.CreateShl(e, 23), f); };
    return b_.CreateFMul(b_.CreateFMul(y, power(e1)), power(e2));
  }

  // float tanh as Eigen's rational approximation (odd degree-13 over even degree-6), x itself
  // near 0, ±1 past ±7.9: at most 7 ulp (checked in codegen_test); double keeps libm's.
  Value* Tanh(Value* x) {
    if (!x->getType()->isFloatTy()) return b_.CreateUnaryIntrinsic(llvm::Intrinsic::tanh, x);
    llvm::Type* f = x->getType();
    Value* xc = Clamp(x, -7.90531110763549805, 7.90531110763549805);
    Value* x2 = b_.CreateFMul(xc, xc);
    Value* p = b_.CreateFMul(xc, Polynomial(x2, {4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08,
                                                 -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16}));
    Value* q = Polynomial(x2, {4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06});
    Value* tiny = b_.CreateFCmpOLT(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x), llvm::ConstantFP::get(f, 0.0004));
    return b_.CreateSelect(b_.CreateOr(tiny, b_.CreateFCmpUNO(x, x)), x, b_.CreateFDiv(p, q));
  }

  Value* Binary(Opcode op, DType t, Value* x, Value* y) {
    llvm::Type* ct = ComputeType(t);
    if (t == DType::kPred) {
      switch (op) {
        case Opcode::kAdd: case Opcode::kOr: case Opcode::kMaximum: return b_.CreateOr(x, y);
        case Opcode::kMultiply: case Opcode::kAnd: case Opcode::kMinimum: return b_.CreateAnd(x, y);
        case Opcode::kXor: case Opcode::kSubtract: return b_.CreateXor(x, y);
        default: return x;
      }
    }
    if (ct->isFloatingPointTy()) {
      switch (op) {
        case Opcode::kAdd: return b_.CreateFAdd(x, y);
        case Opcode::kSubtract: return b_.CreateFSub(x, y);
        case Opcode::kMultiply: return b_.CreateFMul(x, y);
        case Opcode::kDivide: return b_.CreateFDiv(x, y);
        case Opcode::kRemainder: return b_.CreateFRem(x, y);
        case Opcode::kPower: return b_.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y);
        case Opcode::kAtan2: return b_.CreateCall(LibM("atan2", t, 2), {x, y});
        // NaN if either is, else std::max / std::min: the first operand on ties (±0 included).
        // llvm.maximum/minimum are IEEE 754-2019's (NaN-propagating, -0 < +0), as the
        // interpreter's; the NaN they pass on is made the interpreter's quiet NaN.
        case Opcode::kMaximum:
        case Opcode::kMinimum:
          if (t == DType::kF16) return SelectExtreme(op == Opcode::kMaximum, x, y);
          return QuietNaN(b_.CreateBinaryIntrinsic(op == Opcode::kMaximum ? llvm::Intrinsic::maximum : llvm::Intrinsic::minimum, x, y));
        default: return x;
      }
    }
    const bool sign = IsSignedInt(t);
    const unsigned bits = ct->getIntegerBitWidth();
    auto c = [&](int64_t v) { return llvm::ConstantInt::get(ct, static_cast<uint64_t>(v), true); };
    switch (op) {
      case Opcode::kAdd: return b_.CreateAdd(x, y);
      case Opcode::kSubtract: return b_.CreateSub(x, y);
      case Opcode::kMultiply: return b_.CreateMul(x, y);
      case Opcode::kDivide:
      case Opcode::kRemainder: {
        // x / 0 = -1 and x % 0 = x; INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (no trap).
        Value* by_zero = b_.CreateICmpEQ(y, c(0));
        Value* overflow = sign ? b_.CreateAnd(b_.CreateICmpEQ(x, llvm::ConstantInt::get(ct, llvm::APInt::getSignedMinValue(bits))),
                                              b_.CreateICmpEQ(y, c(-1)))
                               : b_.getFalse();
        Value* safe = b_.CreateSelect(b_.CreateOr(by_zero, overflow), c(1), y);
        if (op == Opcode::kDivide) {
          Value* q = sign ? b_.CreateSDiv(x, safe) : b_.CreateUDiv(x, safe);
          return b_.CreateSelect(by_zero, c(-1), b_.CreateSelect(overflow, x, q));
        }
        Value* r = sign ? b_.CreateSRem(x, safe) : b_.CreateURem(x, safe);
        return b_.CreateSelect(by_zero, x, b_.CreateSelect(overflow, c(0), r));
      }
      case Opcode::kMaximum: return b_.CreateBinaryIntrinsic(sign ? llvm::Intrinsic::smax : llvm::Intrinsic::umax, x, y);
      case Opcode::kMinimum: return b_.CreateBinaryIntrinsic(sign ? llvm::Intrinsic::smin : llvm::Intrinsic::umin, x, y);
      case Opcode::kAnd: return b_.CreateAnd(x, y);
      case Opcode::kOr: return b_.CreateOr(x, y);
      case Opcode::kXor: return b_.CreateXor(x, y);
      case Opcode::kShiftLeft:
      case Opcode::kShiftRightLogical:
      case Opcode::kShiftRightArithmetic: {
        // Shifts by the width or more give 0 (or the sign for an arithmetic shift).
        Value* big = b_.CreateICmpUGE(y, c(bits));
        Value* amount = b_.CreateSelect(big, c(0), y);
        if (op == Opcode::kShiftLeft) return b_.CreateSelect(big, c(0), b_.CreateShl(x, amount));
        if (op == Opcode::kShiftRightLogical || !sign) return b_.CreateSelect(big, c(0), b_.CreateLShr(x, amount));
        return b_.CreateSelect(big, b_.CreateSelect(b_.CreateICmpSLT(x, c(0)), c(-1), c(0)), b_.CreateAShr(x, amount));
      }
      default: return x;
    }
  }

  const LoopFusion& f_;
  const RowBlocking blocking_;
  const uint64_t stream_bytes_;
  llvm::Module& m_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  llvm::Function* fn_ = nullptr;
  std::set<const Instruction*> members_;
  std::map<const Instruction*, Value*> base_;
  std::vector<Value*> outs_;          // the root's leaves' base addresses
  Value* out_ = nullptr;              // the first of them (the only one of an array root)
  Value* scratch_base_ = nullptr;     // the kernel's scratch (LoopFusionScratchBytes), if any
  std::map<const Instruction*, llvm::MDNode*> load_scope_;
  llvm::MDNode* not_out_ = nullptr;
  llvm::MDNode* out_scope_ = nullptr;
  llvm::MDNode* not_inputs_ = nullptr;
  llvm::MDNode* stream_scope_ = nullptr;  // the output's scope and the streamed-stores marker
  std::map<std::pair<const Instruction*, std::vector<Value*>>, Value*> cache_;
  std::map<const Instruction*, Value*> row_value_;  // this row's, once EmitRowValues computed them
  std::map<const Instruction*, bool> transcendental_;
  std::map<Value*, Value*> bf16_bits_;  // Round's bfloat16 results: the 16 bits each came from
  std::map<const Instruction*, Value*>* local_ = nullptr;  // a comparator's values while it is inlined
  const Instruction* scratch_ = nullptr;       // ChooseScratch's element expression, if any
  const Instruction* scratch_fold_ = nullptr;  // the row value that folds it
  Value* scratch_row_base_ = nullptr;          // this row's first element in the output
  bool scratch_ready_ = false;                 // the elements' pass: load it
  Value* stack_scratch_ = nullptr;             // a streaming kernel's scratch row
  int64_t lanes_ = 1;        // threads sharing each row (LoopFusionLanes)
  Value* lane_ = nullptr;    // this thread's lane among them; null when lanes_ is 1
};

}  // namespace

Status EmitLoopKernel(const LoopFusion& fusion, llvm::Module& module, RowBlocking blocking, uint64_t stream_bytes) {
  return LoopEmitter(fusion, blocking, stream_bytes, module).Emit();
}

void MarkStreamedStores(llvm::Module& module) {
  llvm::MDNode* nontemporal = llvm::MDNode::get(module.getContext(), {llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(module.getContext()), 1))});
  auto streamed = [](const llvm::MDNode* scopes) {
    if (!scopes) return false;
    for (const llvm::MDOperand& scope : scopes->operands()) {
      auto* domain = llvm::dyn_cast<llvm::MDNode>(llvm::cast<llvm::MDNode>(scope)->getOperand(1));
      auto* name = domain && domain->getNumOperands() > 1 ? llvm::dyn_cast<llvm::MDString>(domain->getOperand(1)) : nullptr;
      if (name && name->getString() == kStreamDomain) return true;
    }
    return false;
  };
  const llvm::DataLayout& layout = module.getDataLayout();
  for (llvm::Function& f : module)
    for (llvm::BasicBlock& block : f)
      for (llvm::Instruction& i : block) {
        auto* store = llvm::dyn_cast<llvm::StoreInst>(&i);
        if (!store || !store->getValueOperand()->getType()->isVectorTy() || !streamed(store->getMetadata(llvm::LLVMContext::MD_alias_scope))) continue;
        const uint64_t bytes = layout.getTypeStoreSize(store->getValueOperand()->getType());
        if (bytes >= 16 && store->getAlign().value() >= bytes) store->setMetadata(llvm::LLVMContext::MD_nontemporal, nontemporal);
      }
}

}  // namespace pjit
