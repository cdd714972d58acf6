// core/runtime/tensor_parallel/sharded_tensor_source.h — one rank's view of a checkpoint: a llmatc_tensor_source
// that hands the model plugin this rank's slice of each split tensor (ShardingPlan) and the whole of the others.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "llmatc/model.h"
#include "runtime/tensor_parallel/sharding_plan.h"

namespace llmatc::tp {

// Thread-safe (the tensor source contract). Must outlive the model created from it. Row slices of a row-major
// [out, in] tensor are contiguous and point into the underlying source's memory; column slices are gathered into
// buffers this object owns, which also makes them recognisable (is_input_column_slice) when the model plugin
// passes them to weight_create.
class ShardedTensorSource {
public:
    ShardedTensorSource(const llmatc_tensor_source& whole, const ShardingPlan& plan, int32_t rank);
    ShardedTensorSource(const ShardedTensorSource&) = delete;
    ShardedTensorSource& operator=(const ShardedTensorSource&) = delete;

    const llmatc_tensor_source* source() const { return &table_; }
    // True when `data` is the first element of a row-parallel (input-column) slice handed out by get().
    bool is_input_column_slice(const void* data) const;
    // How many row-parallel slices get() has handed out.
    size_t input_column_slices() const;

private:
    static llmatc_status get(void* ctx, const char* name, llmatc_tensor_view* out);
    static int has(void* ctx, const char* name);
    static void release(void* ctx, const char* name);  // passed on to the whole source
    void slice(const std::string& name, llmatc_tensor_view& view);

    const llmatc_tensor_source& whole_;
    const ShardingPlan& plan_;
    int32_t rank_;
    llmatc_tensor_source table_{};
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<uint8_t>> column_slices_;  // tensor name -> gathered bytes
};

}  // namespace llmatc::tp
