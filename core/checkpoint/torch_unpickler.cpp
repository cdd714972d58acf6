// core/checkpoint/torch_unpickler.cpp — restricted pickle interpreter: plain data plus a whitelist of torch globals.
#include "checkpoint/torch_unpickler.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "util/error.h"

namespace llmatc::checkpoint_detail {

namespace {

// Bounds that keep hostile pickles from exhausting memory. A 70B-parameter state dict needs a few thousand.
constexpr size_t kMaxValues = 8u << 20;

enum class Kind { None, Bool, Int, Float, Str, Bytes, Tuple, List, Dict, Global, Storage, Tensor };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::None: return "None";
        case Kind::Bool: return "bool";
        case Kind::Int: return "int";
        case Kind::Float: return "float";
        case Kind::Str: return "str";
        case Kind::Bytes: return "bytes";
        case Kind::Tuple: return "tuple";
        case Kind::List: return "list";
        case Kind::Dict: return "dict";
        case Kind::Global: return "global";
        case Kind::Storage: return "storage";
        case Kind::Tensor: return "tensor";
    }
    return "?";
}

// Values refer to each other by raw pointer into the arena that owns them all, so hostile nesting or cycles can
// neither recurse on destruction nor leak.
struct Value {
    Kind kind = Kind::None;
    int64_t integer = 0;   // Int, Bool
    bool big = false;      // an Int that does not fit int64
    double real = 0;       // Float
    std::string text;      // Str, Bytes, Global ("module.name")
    std::vector<Value*> items;                       // Tuple, List
    std::vector<std::pair<Value*, Value*>> entries;  // Dict, insertion order
    TorchTensorRecord tensor;                        // Storage (storage_* fields), Tensor
};

struct StorageType {
    const char* global;
    std::optional<llmatc_dtype> dtype;
};

// The storage classes torch.save names in persistent ids. Those without a dtype are legitimate torch storages
// whose element type llm-atc does not read; a tensor using one is reported as an unsupported dtype.
constexpr StorageType kStorageTypes[] = {
    {"torch.FloatStorage", LLMATC_DTYPE_F32},  {"torch.HalfStorage", LLMATC_DTYPE_F16},
    {"torch.BFloat16Storage", LLMATC_DTYPE_BF16}, {"torch.IntStorage", LLMATC_DTYPE_I32},
    {"torch.LongStorage", LLMATC_DTYPE_I64},   {"torch.DoubleStorage", std::nullopt},
    {"torch.ByteStorage", std::nullopt},       {"torch.CharStorage", std::nullopt},
    {"torch.ShortStorage", std::nullopt},      {"torch.BoolStorage", std::nullopt},
    {"torch.ComplexFloatStorage", std::nullopt}, {"torch.ComplexDoubleStorage", std::nullopt},
};

constexpr const char* kCallables[] = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
};

class Unpickler {
public:
    Unpickler(std::span<const uint8_t> data, std::string file) : data_(data), file_(std::move(file)) {}
    std::vector<TorchTensorRecord> run();

private:
    [[noreturn]] void fail(llmatc_status status, const std::string& what) const {
        throw Error(status, file_ + ": data.pkl byte " + std::to_string(op_pos_) + ": " + what);
    }
    [[noreturn]] void corrupt(const std::string& what) const { fail(LLMATC_ERR_CORRUPT, what); }

    Value* make(Kind kind) {
        if (arena_.size() >= kMaxValues) corrupt("pickle builds more than " + std::to_string(kMaxValues) + " values");
        arena_.push_back(std::make_unique<Value>());
        arena_.back()->kind = kind;
        return arena_.back().get();
    }
    const uint8_t* take(uint64_t n) {
        if (n > data_.size() - pos_) corrupt("pickle truncated (needs " + std::to_string(n) + " more bytes)");
        const uint8_t* p = data_.data() + pos_;
        pos_ += static_cast<size_t>(n);
        return p;
    }
    uint64_t uint_le(int bytes) {
        const uint8_t* p = take(static_cast<uint64_t>(bytes));
        uint64_t v = 0;
        for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
        return v;
    }
    std::string line() {
        const size_t start = pos_;
        while (pos_ < data_.size() && data_[pos_] != '\n') ++pos_;
        if (pos_ == data_.size()) corrupt("pickle truncated inside GLOBAL");
        std::string s(reinterpret_cast<const char*>(data_.data() + start), pos_ - start);
        ++pos_;
        return s;
    }
    void push(Value* v) { stack_.push_back(v); }
    Value* pop() {
        if (stack_.size() <= floor()) corrupt("pickle pops an empty stack");
        Value* v = stack_.back();
        stack_.pop_back();
        return v;
    }
    Value* top() {
        if (stack_.size() <= floor()) corrupt("pickle reads an empty stack");
        return stack_.back();
    }
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    std::vector<Value*> pop_mark() {
        if (marks_.empty()) corrupt("pickle uses a MARK that was never set");
        const size_t mark = marks_.back();
        marks_.pop_back();
        std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
        stack_.resize(mark);
        return items;
    }
    Value* str(std::string s, Kind kind = Kind::Str) {
        Value* v = make(kind);
        v->text = std::move(s);
        return v;
    }
    Value* tuple(std::vector<Value*> items) {
        Value* v = make(Kind::Tuple);
        v->items = std::move(items);
        return v;
    }
    Value* integer(int64_t i) {
        Value* v = make(Kind::Int);
        v->integer = i;
        return v;
    }
    void memo_put(uint64_t index) { memo_[index] = top(); }
    Value* memo_get(uint64_t index) {
        auto it = memo_.find(index);
        if (it == memo_.end()) corrupt("pickle reads memo slot " + std::to_string(index) + " that was never set");
        return it->second;
    }

    Value* resolve_global(const std::string& module, const std::string& name);
    Value* call(Value* callable, Value* args);
    Value* persistent_load(Value* pid);
    int64_t as_int(const Value* v, const char* what);
    std::vector<int64_t> as_int_tuple(const Value* v, const char* what);
    void set_item(Value* dict, Value* key, Value* value);

    std::span<const uint8_t> data_;
    std::string file_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    std::vector<std::unique_ptr<Value>> arena_;
    std::vector<Value*> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, Value*> memo_;
};

Value* Unpickler::resolve_global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    for (const auto& st : kStorageTypes)
        if (full == st.global) return str(full, Kind::Global);
    for (const char* c : kCallables)
        if (full == c) return str(full, Kind::Global);
    fail(LLMATC_ERR_UNSUPPORTED, "refused pickle global '" + full +
                                     "': a checkpoint may only hold a tensor state dict, and nothing in it is "
                                     "imported or executed");
}

int64_t Unpickler::as_int(const Value* v, const char* what) {
    if (v->kind != Kind::Int || v->big) corrupt(std::string(what) + " is a " + kind_name(v->kind) + ", not a small int");
    return v->integer;
}

std::vector<int64_t> Unpickler::as_int_tuple(const Value* v, const char* what) {
    if (v->kind != Kind::Tuple) corrupt(std::string(what) + " is a " + kind_name(v->kind) + ", not a tuple");
    std::vector<int64_t> out;
    for (const Value* item : v->items) out.push_back(as_int(item, what));
    return out;
}

// torch.save's persistent id of a typed storage: ('storage', torch.<Type>Storage, key, location, numel).
Value* Unpickler::persistent_load(Value* pid) {
    if (pid->kind != Kind::Tuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::Str ||
        pid->items[0]->text != "storage")
        corrupt("persistent id is not a torch storage reference ('storage', type, key, location, numel)");
    const Value* type = pid->items[1];
    const Value* key = pid->items[2];
    if (type->kind != Kind::Global) corrupt("storage reference names no storage type");
    const StorageType* found = nullptr;
    for (const auto& st : kStorageTypes)
        if (type->text == st.global) found = &st;
    if (found == nullptr) corrupt("'" + type->text + "' is not a storage type");
    if (key->kind != Kind::Str) corrupt("storage key is not a string");
    const int64_t numel = as_int(pid->items[4], "storage size");
    if (numel < 0) corrupt("storage size is negative");
    Value* v = make(Kind::Storage);
    v->tensor.storage_type = found->global;
    v->tensor.dtype = found->dtype;
    v->tensor.storage_key = key->text;
    v->tensor.storage_numel = static_cast<uint64_t>(numel);
    return v;
}

Value* Unpickler::call(Value* callable, Value* args) {
    if (callable->kind != Kind::Global) corrupt(std::string("REDUCE calls a ") + kind_name(callable->kind));
    if (args->kind != Kind::Tuple) corrupt("REDUCE arguments are not a tuple");
    const std::string& fn = callable->text;
    const auto& a = args->items;
    if (fn == "collections.OrderedDict") {
        if (!a.empty()) corrupt("OrderedDict is built with arguments; only an empty one is accepted");
        return make(Kind::Dict);
    }
    if (fn == "torch._utils._rebuild_tensor_v2") {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (a.size() != 6 && a.size() != 7) corrupt("_rebuild_tensor_v2 takes 6 or 7 arguments, got " + std::to_string(a.size()));
        if (a[0]->kind != Kind::Storage) corrupt("_rebuild_tensor_v2's first argument is not a storage");
        Value* t = make(Kind::Tensor);
        t->tensor = a[0]->tensor;
        const int64_t offset = as_int(a[1], "storage offset");
        if (offset < 0) corrupt("negative storage offset");
        t->tensor.storage_offset = static_cast<uint64_t>(offset);
        t->tensor.shape = as_int_tuple(a[2], "tensor size");
        t->tensor.stride = as_int_tuple(a[3], "tensor stride");
        if (t->tensor.shape.size() != t->tensor.stride.size()) corrupt("tensor size and stride differ in length");
        return t;
    }
    if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
        if (a.empty() || a[0]->kind != Kind::Tensor) corrupt(fn + "'s first argument is not a tensor");
        return a[0];
    }
    // Storage classes are only valid inside persistent ids.
    corrupt("'" + fn + "' cannot be called");
}

void Unpickler::set_item(Value* dict, Value* key, Value* value) {
    if (dict->kind != Kind::Dict) corrupt(std::string("SETITEM on a ") + kind_name(dict->kind));
    dict->entries.emplace_back(key, value);
}

std::vector<TorchTensorRecord> Unpickler::run() {
    while (true) {
        op_pos_ = pos_;
        const uint8_t op = *take(1);
        switch (op) {
            case 0x80: take(1); break;                     // PROTO
            case 0x95: take(8); break;                     // FRAME (a hint; the data is already in memory)
            case '(': marks_.push_back(stack_.size()); break;  // MARK
            case '0': pop(); break;                        // POP
            case '1': pop_mark(); break;                   // POP_MARK
            case '2': push(top()); break;                  // DUP
            case 'N': push(make(Kind::None)); break;
            case 0x88:
            case 0x89: {                                   // NEWTRUE / NEWFALSE
                Value* v = make(Kind::Bool);
                v->integer = op == 0x88;
                push(v);
                break;
            }
            case 'J': push(integer(static_cast<int32_t>(uint_le(4)))); break;  // BININT
            case 'K': push(integer(static_cast<int64_t>(uint_le(1)))); break;  // BININT1
            case 'M': push(integer(static_cast<int64_t>(uint_le(2)))); break;  // BININT2
            case 0x8a: {                                   // LONG1: n-byte two's complement
                const uint64_t n = uint_le(1);
                const uint8_t* p = take(n);
                Value* v = make(Kind::Int);
                if (n > 8) {
                    v->big = true;
                } else if (n > 0) {
                    uint64_t u = 0;
                    for (uint64_t i = n; i-- > 0;) u = (u << 8) | p[i];
                    if (n < 8 && (p[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend
                    v->integer = static_cast<int64_t>(u);
                }
                push(v);
                break;
            }
            case 'G': {                                    // BINFLOAT, big-endian double
                const uint8_t* p = take(8);
                uint64_t bits = 0;
                for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
                Value* v = make(Kind::Float);
                std::memcpy(&v->real, &bits, sizeof bits);
                push(v);
                break;
            }
            case 'X':                                      // BINUNICODE
            case 0x8c:                                     // SHORT_BINUNICODE
            case 0x8d:                                     // BINUNICODE8
            case 'T':                                      // BINSTRING
            case 'U':                                      // SHORT_BINSTRING
            case 'B':                                      // BINBYTES
            case 'C': {                                    // SHORT_BINBYTES
                const int width = (op == 0x8c || op == 'U' || op == 'C') ? 1 : op == 0x8d ? 8 : 4;
                const uint64_t n = uint_le(width);
                if (op == 'T' && n > INT32_MAX) corrupt("negative BINSTRING length");
                const uint8_t* p = take(n);
                push(str(std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)),
                         (op == 'B' || op == 'C') ? Kind::Bytes : Kind::Str));
                break;
            }
            case ')': push(tuple({})); break;              // EMPTY_TUPLE
            case 't': push(tuple(pop_mark())); break;      // TUPLE
            case 0x85:
            case 0x86:
            case 0x87: {                                   // TUPLE1..3
                const size_t n = static_cast<size_t>(op - 0x84);
                std::vector<Value*> items(n);
                for (size_t i = n; i-- > 0;) items[i] = pop();
                push(tuple(std::move(items)));
                break;
            }
            case ']': push(make(Kind::List)); break;       // EMPTY_LIST
            case 'a': {                                    // APPEND
                Value* item = pop();
                Value* list = top();
                if (list->kind != Kind::List) corrupt(std::string("APPEND to a ") + kind_name(list->kind));
                list->items.push_back(item);
                break;
            }
            case 'e': {                                    // APPENDS
                std::vector<Value*> items = pop_mark();
                Value* list = top();
                if (list->kind != Kind::List) corrupt(std::string("APPENDS to a ") + kind_name(list->kind));
                list->items.insert(list->items.end(), items.begin(), items.end());
                break;
            }
            case '}': push(make(Kind::Dict)); break;       // EMPTY_DICT
            case 's': {                                    // SETITEM
                Value* value = pop();
                Value* key = pop();
                set_item(top(), key, value);
                break;
            }
            case 'u': {                                    // SETITEMS
                std::vector<Value*> kv = pop_mark();
                if (kv.size() % 2 != 0) corrupt("SETITEMS with an odd number of items");
                Value* dict = top();
                for (size_t i = 0; i < kv.size(); i += 2) set_item(dict, kv[i], kv[i + 1]);
                break;
            }
            case 'c': {                                    // GLOBAL "module\nname\n"
                std::string module = line();
                std::string name = line();
                push(resolve_global(module, name));
                break;
            }
            case 0x93: {                                   // STACK_GLOBAL
                Value* name = pop();
                Value* module = pop();
                if (module->kind != Kind::Str || name->kind != Kind::Str) corrupt("STACK_GLOBAL needs two strings");
                push(resolve_global(module->text, name->text));
                break;
            }
            case 'R': {                                    // REDUCE
                Value* args = pop();
                Value* callable = pop();
                push(call(callable, args));
                break;
            }
            case 'b': {                                    // BUILD: state_dict()'s OrderedDict carries _metadata
                pop();  // the state is data only (module versions); it is not needed
                if (top()->kind != Kind::Dict) corrupt(std::string("BUILD on a ") + kind_name(top()->kind));
                break;
            }
            case 'Q': push(persistent_load(pop())); break;  // BINPERSID
            case 'q': memo_put(uint_le(1)); break;          // BINPUT
            case 'r': memo_put(uint_le(4)); break;          // LONG_BINPUT
            case 0x94: memo_put(memo_.size()); break;       // MEMOIZE
            case 'h': push(memo_get(uint_le(1))); break;    // BINGET
            case 'j': push(memo_get(uint_le(4))); break;    // LONG_BINGET
            case '.': {                                     // STOP
                Value* root = pop();
                if (root->kind != Kind::Dict) {
                    corrupt(std::string("the checkpoint holds a ") + kind_name(root->kind) +
                            ", not a state dict (a dict of name → tensor)");
                }
                std::vector<TorchTensorRecord> out;
                std::unordered_map<std::string, size_t> position;
                for (const auto& [key, value] : root->entries) {
                    if (key->kind != Kind::Str) corrupt(std::string("state dict key is a ") + kind_name(key->kind));
                    if (value->kind != Kind::Tensor) {
                        corrupt("state dict entry '" + key->text + "' is a " + kind_name(value->kind) + ", not a tensor");
                    }
                    TorchTensorRecord record = value->tensor;
                    record.name = key->text;
                    auto [it, inserted] = position.emplace(key->text, out.size());
                    if (inserted) out.push_back(std::move(record));
                    else out[it->second] = std::move(record);
                }
                return out;
            }
            default: {
                char hex[8];
                std::snprintf(hex, sizeof hex, "0x%02x", op);
                fail(LLMATC_ERR_UNSUPPORTED, std::string("unsupported pickle opcode ") + hex +
                                                 " (only the plain-data opcodes of a tensor state dict are accepted)");
            }
        }
    }
}

}  // namespace

std::vector<TorchTensorRecord> unpickle_state_dict(std::span<const uint8_t> pickle, const std::string& file) {
    return Unpickler(pickle, file).run();
}

}  // namespace llmatc::checkpoint_detail
