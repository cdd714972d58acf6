// core/engine/step_batch.h — turns the scheduler's decision into the llmatc_batch a model's forward runs.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/scheduler.h"
#include "llmatc/kernels.h"

namespace llmatc::engine {

// Host buffers for one step and the batch view over them. Rebuilt every step; reuses its capacity.
//
// Logit rows: a sequence's last row when its chunk reaches the end of its tokens (the next token is sampled from
// it), and, for requests asking for prompt logprobs, each row whose next prompt token's logprob is still missing.
// Hidden rows are produced for the whole batch when any sequence is an embedding request.
class StepBatch {
public:
    void build(const std::vector<ScheduledSeq>& scheduled, int32_t vocab_size, int32_t hidden_size);

    const llmatc_batch& batch() const { return batch_; }

    // Per scheduled sequence (same order as given to build): where its rows start, how many tokens it had in the
    // cache before the step, and whether its last row gives the next token.
    struct SeqRows {
        int32_t first_row = 0;
        int32_t n_computed_before = 0;
        bool samples = false;
    };
    const std::vector<SeqRows>& seq_rows() const { return seq_rows_; }
    // The logits of batch row `row`, or nullptr when that row's logits were not asked for or stay on the device.
    const float* logits_of_row(int32_t row) const;
    // Where row `row`'s logits are among the batch's logit rows, or -1 when they were not asked for.
    int32_t logit_index_of_row(int32_t row) const { return logit_index_of_row_.at(static_cast<size_t>(row)); }
    // Makes this step's model write its logits to `device_logits` (backend memory, [n_logit_rows, vocab]) instead
    // of the host buffer; logits_of_row() then returns nullptr. Call after build(); build() resets it.
    void use_device_logits(float* device_logits);
    // The final hidden state of batch row `row`, or nullptr when hidden states were not asked for.
    const float* hidden_of_row(int32_t row) const;

private:
    int32_t vocab_size_ = 0;
    int32_t hidden_size_ = 0;
    std::vector<int32_t> token_ids_, positions_, logit_rows_, logit_index_of_row_;
    std::vector<llmatc_batch_seq> seqs_;
    std::vector<SeqRows> seq_rows_;
    std::vector<float> logits_, hidden_;
    llmatc_batch batch_{};
};

}  // namespace llmatc::engine
