// core/cli/generate_parallel.h — `llm-atc generate --parallel N`: N prompts decoded together as one engine batch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmatc {
class LoadedModel;
}

namespace llmatc::cli {

struct ParallelGenerateOptions {
    std::vector<std::vector<int32_t>> prompts;  // one token list per sequence (BOS included when wanted)
    int max_tokens = 64;
    double temperature = 1.0;                   // 0 = greedy
    double top_p = 1.0;
    int top_k = 0;
    std::optional<uint64_t> seed;               // each sequence i samples with seed + i
    bool ignore_eos = false;
    std::string kv_cache_dtype = "auto";        // auto | f32 | f16 (see EngineOptions)
};

struct ParallelSequenceResult {
    std::vector<int32_t> prompt_ids;
    std::vector<int32_t> token_ids;             // without the EOS id that ended it
    std::string text;
    std::string finish_reason;                  // "stop" | "length"
};

// Aggregate timings of the batch. "Full-batch" steps are the engine steps in which every one of the N sequences
// decoded a token and none ran its prompt: from the step after the last prompt ran to the step in which the first
// sequence finished. Their count times N over their duration is the batched decode throughput.
struct ParallelTimings {
    int n_sequences = 0;
    int64_t prompt_tokens = 0;                  // over all sequences
    double prompt_seconds = 0.0;                // submit of the first request to the last sequence's first token
    int full_batch_steps = 0;
    double full_batch_seconds = 0.0;
    int64_t generated_tokens = 0;               // over all sequences, first tokens included
    double total_seconds = 0.0;                 // submit of the first request to the last token of any sequence
    uint64_t kv_cache_bytes = 0;                // the engine's KV cache, as planned for this batch
};

struct ParallelGeneration {
    std::vector<ParallelSequenceResult> sequences;
    ParallelTimings timings;
};

// Submits every prompt to one engine sized for exactly this batch (max_num_seqs = N, a KV cache holding N
// sequences of prompt + max_tokens, prefix caching off) and waits for all of them. Throws llmatc::Error when a
// prompt is invalid (empty, longer than the context, ids outside the vocabulary) or a sequence fails.
ParallelGeneration generate_parallel(std::unique_ptr<LoadedModel> model, const ParallelGenerateOptions& options);

// {"parallel": N, "sequences": [{"prompt_token_ids", "token_ids", "text", "finish_reason"}...]} plus "timings"
// (prompt and aggregate generation tokens/s, full-batch steps, kv_cache_bytes) when with_timings.
std::string parallel_result_json(const ParallelGeneration& result, bool with_timings);

}  // namespace llmatc::cli
