// core/runtime/tensor_parallel/sharding_plan.h — how a checkpoint is split across tensor-parallel ranks: which
// tensors are split by output rows (column-parallel), which by input columns (row-parallel), which are replicated,
// and the config.json each rank's model plugin sees (its share of the heads and of the MLP width).
#pragma once

#include <cstdint>
#include <string>

namespace llmatc::tp {

enum class Split {
    kReplicated,   // every rank holds the whole tensor (embeddings, norms, lm_head)
    kOutputRows,   // column-parallel Linear [out, in]: rank r holds rows [r*out/N, (r+1)*out/N): its heads / MLP units
    kInputColumns, // row-parallel Linear [out, in]: rank r holds columns [r*in/N, ...); partial outputs are summed
};

// The plan for the Llama family (LlamaForCausalLM and its aliases, Hugging Face tensor names): q/k/v/gate/up split
// by output rows, o_proj/down_proj by input columns, so each attention block and each MLP block ends in exactly
// one sum across ranks (after o_proj and after down_proj).
class ShardingPlan {
public:
    // Checks that config.json names a Llama architecture and that num_attention_heads, num_key_value_heads and
    // intermediate_size divide by `world_size`. Throws llmatc::Error naming the field and both numbers otherwise.
    ShardingPlan(const std::string& config_json, int32_t world_size);

    int32_t world_size() const { return world_size_; }
    Split split_of(const std::string& tensor_name) const;
    // config.json for one rank: heads, kv heads and intermediate_size divided by world_size, head_dim written out
    // (it no longer follows from hidden_size / heads).
    const std::string& rank_config_json() const { return rank_config_; }

private:
    int32_t world_size_;
    std::string rank_config_;
};

}  // namespace llmatc::tp
