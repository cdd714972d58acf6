// core/checkpoint/torch_unpickler.h — a restricted unpickler for torch.save state dicts: data only, nothing executed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "llmatc/kernels.h"

namespace llmatc::checkpoint_detail {

// One tensor of the state dict as the pickle describes it; its bytes live in the archive's data/<storage_key>.
struct TorchTensorRecord {
    std::string name;
    std::string storage_type;            // "torch.FloatStorage" ..., for messages
    std::optional<llmatc_dtype> dtype;   // nullopt: a storage type torch knows but we do not read (Double, Int8 ...)
    std::string storage_key;
    uint64_t storage_numel = 0;          // elements of the storage, from its persistent id
    uint64_t storage_offset = 0;         // in elements
    std::vector<int64_t> shape;
    std::vector<int64_t> stride;         // in elements
};

// Interprets `pickle` (the archive's data.pkl) and returns the state dict's tensors in insertion order (a name
// that appears twice keeps its last value, as a Python dict would). Accepted: pickle protocols 2–5 opcodes for
// plain data, and only the globals a state dict needs — collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter and torch.<Type>Storage. Any other global (os.system, builtins.eval ...) and
// any object-building opcode is refused with an error naming it and `file`; nothing is ever imported or called.
// The top-level object must be a dict of str → tensor. Throws llmatc::Error.
std::vector<TorchTensorRecord> unpickle_state_dict(std::span<const uint8_t> pickle, const std::string& file);

}  // namespace llmatc::checkpoint_detail
