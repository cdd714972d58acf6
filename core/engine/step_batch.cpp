// core/engine/step_batch.cpp — building one step's batch (rows, positions, block tables, wanted logits).
#include "engine/step_batch.h"

namespace llmatc::engine {

void StepBatch::build(const std::vector<ScheduledSeq>& scheduled, int32_t vocab_size, int32_t hidden_size) {
    vocab_size_ = vocab_size;
    hidden_size_ = hidden_size;
    token_ids_.clear();
    positions_.clear();
    logit_rows_.clear();
    logit_index_of_row_.clear();
    seqs_.clear();
    seq_rows_.clear();
    bool want_hidden = false;

    for (const ScheduledSeq& s : scheduled) {
        const Sequence& seq = *s.seq;
        SeqRows rows;
        rows.first_row = static_cast<int32_t>(token_ids_.size());
        rows.n_computed_before = seq.n_computed;
        rows.samples = seq.kind == SequenceKind::Generate && seq.n_computed + s.n_new == seq.n_total();
        if (seq.kind == SequenceKind::Embed) want_hidden = true;

        for (int32_t j = 0; j < s.n_new; ++j) {
            const int32_t pos = seq.n_computed + j;
            const int32_t row = static_cast<int32_t>(token_ids_.size());
            token_ids_.push_back(seq.tokens[static_cast<size_t>(pos)]);
            positions_.push_back(pos);
            // Row at position p predicts token p + 1: a prompt logprob entry when p + 1 is a prompt token not yet
            // scored; the last row of a finished chunk gives the next token.
            const bool prompt_row = seq.kind == SequenceKind::Generate && seq.wants_prompt_logprobs() &&
                                    pos + 1 < seq.n_prompt && pos + 1 >= seq.n_prompt_logprobs_done;
            const bool last_row = rows.samples && j == s.n_new - 1;
            if (prompt_row || last_row) {
                logit_index_of_row_.push_back(static_cast<int32_t>(logit_rows_.size()));
                logit_rows_.push_back(row);
            } else {
                logit_index_of_row_.push_back(-1);
            }
        }
        llmatc_batch_seq bs{};
        bs.block_table = seq.block_table.data();
        bs.n_blocks = static_cast<int32_t>(seq.block_table.size());
        bs.n_past = seq.n_computed;
        bs.n_new = s.n_new;
        bs.first_row = rows.first_row;
        seqs_.push_back(bs);
        seq_rows_.push_back(rows);
    }

    logits_.resize(logit_rows_.size() * static_cast<size_t>(vocab_size));
    hidden_.resize(want_hidden ? token_ids_.size() * static_cast<size_t>(hidden_size) : 0);

    batch_ = llmatc_batch{};
    batch_.struct_size = sizeof(llmatc_batch);
    batch_.abi_version = LLMATC_ABI_VERSION;
    batch_.n_tokens = static_cast<int32_t>(token_ids_.size());
    batch_.token_ids = token_ids_.data();
    batch_.positions = positions_.data();
    batch_.n_seqs = static_cast<int32_t>(seqs_.size());
    batch_.seqs = seqs_.data();
    batch_.n_logit_rows = static_cast<int32_t>(logit_rows_.size());
    batch_.logit_rows = logit_rows_.empty() ? nullptr : logit_rows_.data();
    batch_.logits = logits_.empty() ? nullptr : logits_.data();
    batch_.hidden = want_hidden ? hidden_.data() : nullptr;
}

void StepBatch::use_device_logits(float* device_logits) {
    batch_.device_logits = device_logits;
    batch_.logits = nullptr;
}

const float* StepBatch::logits_of_row(int32_t row) const {
    const int32_t idx = logit_index_of_row_.at(static_cast<size_t>(row));
    return idx < 0 || !batch_.logits ? nullptr : logits_.data() + static_cast<size_t>(idx) * vocab_size_;
}

const float* StepBatch::hidden_of_row(int32_t row) const {
    return hidden_.empty() ? nullptr : hidden_.data() + static_cast<size_t>(row) * hidden_size_;
}

}  // namespace llmatc::engine
