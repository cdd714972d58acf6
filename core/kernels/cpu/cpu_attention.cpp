// core/kernels/cpu/cpu_attention.cpp — the paged KV cache on the CPU: writing a batch's keys/values into their
// slots, and causal grouped-query attention over each sequence's blocks, tiled, with an online softmax.
//
// Attention works on tasks of (sequence, a few consecutive query rows, a range of adjacent KV heads). A task walks
// the sequence's positions in tiles of kv_tile_rows; for each KV head of its range it converts the tile's keys and
// values (F16 or F32) to F32 rows once, then runs every query vector of that head (its rows times the KV group's
// query heads) over them. So a KV head's cache is read and converted once per task, not once per query head, and
// F16 costs one vector conversion per element. A range of several heads makes a task read each cached row's bytes
// for those heads together (a row holds every KV head of a position): decode over a long context reads whole runs
// of a row instead of a head's 128-256 bytes out of every few KiB. Each query vector's arithmetic depends only on
// its own position and the absolute tile boundaries (multiples of kv_tile_rows from position 0), never on which
// other rows, heads or sequences share its task or the batch: batching, chunked prefill and the head ranges leave
// results bit-identical.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "kernels/cpu/attention_tiles.h"
#include "kernels/cpu/cpu_ops.h"
#include "util/error.h"

namespace llmatc::cpu {

namespace {

// Multiply-adds a chunk of attention tasks should hold before it is worth handing to another thread.
constexpr double kMinAttentionChunkWork = 32768.0;
// Query vectors (rows x heads of one KV group) a task aims to hold: enough to amortise converting a tile.
constexpr int32_t kQueryVectorsPerTask = 16;
// F32 floats one staged key (or value) tile may take: 64 rows of 64-wide heads, 32 of 128-wide ones, so that the
// staged keys and values (32 KiB together) stay in L1 while every query vector of the task passes over them
// (attention-bench, 32 heads of 128, 512-token prefill: ~20.9 -> ~10.7 ms with tiles of 64 rows -> 32).
constexpr int32_t kTileFloats = 32 * 128;
constexpr int32_t kMaxTileRows = 64;
// Bytes of a cached row a task's head range aims to span: a page, so that the range's part of each row is one
// contiguous run the hardware prefetcher and the TLB serve well.
constexpr size_t kHeadRangeBytes = 4096;
// Query vectors (of all its heads) a task may hold: their queries and accumulators stay in L2.
constexpr int32_t kMaxVectorsPerTask = 64;
// Tasks per thread a batch keeps at least (when it has that many heads at all) when heads are grouped into ranges.
constexpr int64_t kMinTasksPerThread = 8;

[[noreturn]] void fail(const char* kernel, const std::string& what) {
    throw Error(LLMATC_ERR_INVALID_ARGUMENT, std::string(kernel) + ": " + what);
}

void validate_cache(const char* kernel, const llmatc_kv_cache* cache, int32_t layer) {
    if (!cache) fail(kernel, "cache is NULL");
    if (cache->struct_size < sizeof(llmatc_kv_cache))
        fail(kernel, "cache struct_size " + std::to_string(cache->struct_size) + " is too small");
    if (cache->dtype != LLMATC_DTYPE_F32 && cache->dtype != LLMATC_DTYPE_F16)
        throw Error(LLMATC_ERR_UNSUPPORTED, std::string(kernel) + ": KV cache dtype must be F32 or F16");
    if (layer < 0 || layer >= cache->n_layers)
        fail(kernel, "layer " + std::to_string(layer) + " is outside [0, " + std::to_string(cache->n_layers) + ")");
    if (cache->n_kv_heads <= 0 || cache->head_dim <= 0 || cache->head_dim > kMaxHeadDim || cache->block_size <= 0 ||
        cache->n_blocks <= 0)
        fail(kernel, "cache geometry is invalid (n_kv_heads, head_dim, block_size, n_blocks must be positive; "
                     "head_dim at most " + std::to_string(kMaxHeadDim) + ")");
    if (!cache->k || !cache->v || !cache->k[layer] || !cache->v[layer])
        fail(kernel, "cache buffers of layer " + std::to_string(layer) + " are NULL");
}

void validate_batch(const char* kernel, const llmatc_kv_cache* cache, const llmatc_batch* batch) {
    if (!batch) fail(kernel, "batch is NULL");
    // ABI 1.0's batch ends before device_logits (since 1.1), which these kernels do not read.
    if (batch->struct_size < offsetof(llmatc_batch, device_logits))
        fail(kernel, "batch struct_size " + std::to_string(batch->struct_size) + " is too small");
    if (batch->n_tokens < 0 || batch->n_seqs < 0) fail(kernel, "negative n_tokens or n_seqs");
    if (batch->n_seqs > 0 && !batch->seqs) fail(kernel, "batch seqs is NULL");
    for (int32_t s = 0; s < batch->n_seqs; ++s) {
        const llmatc_batch_seq& seq = batch->seqs[s];
        // Built only for a message: validation runs on every attention call and must not allocate.
        auto which = [s] { return "sequence " + std::to_string(s); };
        if (seq.n_new < 1 || seq.n_past < 0) fail(kernel, which() + " has n_new < 1 or n_past < 0");
        if (seq.first_row < 0 || int64_t(seq.first_row) + seq.n_new > batch->n_tokens)
            fail(kernel, which() + " rows [" + std::to_string(seq.first_row) + ", +" + std::to_string(seq.n_new) +
                             ") fall outside the batch's " + std::to_string(batch->n_tokens) + " rows");
        const int64_t needed = int64_t(seq.n_past) + seq.n_new;
        if (!seq.block_table || int64_t(seq.n_blocks) * cache->block_size < needed)
            fail(kernel, which() + " has " + std::to_string(seq.n_blocks) + " blocks of " +
                             std::to_string(cache->block_size) + " tokens, needs " + std::to_string(needed) +
                             " tokens");
        const int64_t used_blocks = (needed + cache->block_size - 1) / cache->block_size;
        for (int64_t b = 0; b < used_blocks; ++b)
            if (seq.block_table[b] < 0 || seq.block_table[b] >= cache->n_blocks)
                fail(kernel, which() + " block table entry " + std::to_string(b) + " = " +
                                 std::to_string(seq.block_table[b]) + " is outside [0, " +
                                 std::to_string(cache->n_blocks) + ")");
    }
}

// row_seq[r] = the sequence batch row r belongs to, or -1 when none claims it.
void map_rows_to_sequences(const llmatc_batch* batch, int32_t* row_seq) {
    for (int32_t r = 0; r < batch->n_tokens; ++r) row_seq[r] = -1;
    for (int32_t s = 0; s < batch->n_seqs; ++s)
        for (int32_t i = 0; i < batch->seqs[s].n_new; ++i) row_seq[batch->seqs[s].first_row + i] = s;
}

inline int64_t slot_of(const llmatc_batch_seq& seq, int32_t block_size, int64_t position) {
    return int64_t(seq.block_table[position / block_size]) * block_size + position % block_size;
}

// How many adjacent KV heads one attention task takes: the largest divisor of n_kv_heads whose heads' bytes fit in a
// kHeadRangeBytes run and whose query vectors fit kMaxVectorsPerTask, while the batch still has
// min(tasks with one head each, kMinTasksPerThread per thread) tasks, so no thread is left idle.
int32_t heads_per_task(int32_t n_kv_heads, size_t head_bytes, int32_t vectors_per_head, int64_t single_head_tasks,
                       int n_threads) {
    const int64_t tasks_wanted = std::min<int64_t>(single_head_tasks, kMinTasksPerThread * n_threads);
    int32_t best = 1;
    for (int32_t h = 2; h <= n_kv_heads; ++h) {
        if (n_kv_heads % h != 0) continue;
        if (size_t(h) * head_bytes > kHeadRangeBytes || h * vectors_per_head > kMaxVectorsPerTask) break;
        if (single_head_tasks / h < tasks_wanted) break;
        best = h;
    }
    return best;
}

}  // namespace

void op_kv_write(CpuContext& ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                 const float* k, const float* v) {
    validate_cache("kv_write", cache, layer);
    validate_batch("kv_write", cache, batch);
    if (batch->n_tokens == 0) return;
    if (!k || !v) fail("kv_write", "k or v is NULL");
    const int64_t row = int64_t(cache->n_kv_heads) * cache->head_dim;
    const bool f16 = cache->dtype == LLMATC_DTYPE_F16;
    const AttentionTileKernels& tiles = attention_tile_kernels(ctx.kernels->isa);
    void* k_cache = cache->k[layer];
    void* v_cache = cache->v[layer];
    // One item per token: a long prefill of one sequence spreads over the threads too.
    const int64_t chunk = ctx.pool.chunk_for_work(batch->n_tokens, 1, double(row), kMinAttentionChunkWork, 4);
    auto* row_seq = static_cast<int32_t*>(ctx.row_to_seq.reserve(size_t(batch->n_tokens) * sizeof(int32_t)));
    map_rows_to_sequences(batch, row_seq);
    ctx.pool.parallel_for(batch->n_tokens, chunk, [&](int64_t begin, int64_t end, int) {
        for (int64_t r = begin; r < end; ++r) {
            if (row_seq[r] < 0) continue;  // a row no sequence claims has no slot
            const llmatc_batch_seq& seq = batch->seqs[row_seq[r]];
            const int64_t slot = slot_of(seq, cache->block_size, int64_t(seq.n_past) + (r - seq.first_row));
            const float* k_src = k + r * row;
            const float* v_src = v + r * row;
            if (f16) {
                tiles.store_row_f16(static_cast<uint16_t*>(k_cache) + slot * row, k_src, row);
                tiles.store_row_f16(static_cast<uint16_t*>(v_cache) + slot * row, v_src, row);
            } else {
                std::copy(k_src, k_src + row, static_cast<float*>(k_cache) + slot * row);
                std::copy(v_src, v_src + row, static_cast<float*>(v_cache) + slot * row);
            }
        }
    });
}

void op_attention(CpuContext& ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                  const float* q, int32_t n_heads, float scale, float* out) {
    validate_cache("attention", cache, layer);
    validate_batch("attention", cache, batch);
    if (n_heads <= 0 || n_heads % cache->n_kv_heads != 0)
        fail("attention", "n_heads " + std::to_string(n_heads) + " is not a positive multiple of n_kv_heads " +
                              std::to_string(cache->n_kv_heads));
    if (batch->n_tokens == 0) return;
    if (!q || !out) fail("attention", "q or out is NULL");

    const int32_t n_kv_heads = cache->n_kv_heads;
    const int32_t head_dim = cache->head_dim;
    const int32_t group = n_heads / n_kv_heads;
    const int64_t kv_row = int64_t(n_kv_heads) * head_dim;
    const int64_t q_row = int64_t(n_heads) * head_dim;
    const int32_t d_pad = (head_dim + kAttentionRowPad - 1) / kAttentionRowPad * kAttentionRowPad;
    const int32_t tile_rows = std::clamp(kTileFloats / d_pad / kAttentionScoreGroup * kAttentionScoreGroup,
                                         kAttentionScoreGroup, kMaxTileRows);
    const int32_t rows_per_task = std::max(1, kQueryVectorsPerTask / group);
    const bool f16 = cache->dtype == LLMATC_DTYPE_F16;
    const size_t element_bytes = f16 ? 2 : 4;
    const size_t head_bytes = size_t(head_dim) * element_bytes;

    // Scratch: which sequence each batch row belongs to, then task_start[s], sequence s's first task (tasks go
    // sequence by sequence: its row tiles times the KV head ranges).
    const size_t row_seq_bytes = (size_t(batch->n_tokens) * sizeof(int32_t) + 7) / 8 * 8;
    auto* index_scratch = static_cast<uint8_t*>(
        ctx.row_to_seq.reserve(row_seq_bytes + (size_t(batch->n_seqs) + 1) * sizeof(int64_t)));
    auto* row_seq = reinterpret_cast<int32_t*>(index_scratch);
    auto* task_start = reinterpret_cast<int64_t*>(index_scratch + row_seq_bytes);
    // Every batch row must belong to a sequence, or its output would be left unwritten.
    map_rows_to_sequences(batch, row_seq);
    for (int32_t r = 0; r < batch->n_tokens; ++r)
        if (row_seq[r] < 0) fail("attention", "batch row " + std::to_string(r) + " belongs to no sequence");
    int64_t row_tiles_total = 0;
    int32_t max_task_rows = 1;  // the most query rows any task holds
    double work = 0.0;
    for (int32_t s = 0; s < batch->n_seqs; ++s) {
        const llmatc_batch_seq& seq = batch->seqs[s];
        row_tiles_total += (seq.n_new + rows_per_task - 1) / rows_per_task;
        max_task_rows = std::max(max_task_rows, std::min(rows_per_task, seq.n_new));
        work += 4.0 * double(seq.n_new) * n_heads * head_dim * (double(seq.n_past) + 0.5 * seq.n_new);
    }
    const int32_t vectors_per_head = max_task_rows * group;
    const int32_t range_heads = heads_per_task(n_kv_heads, head_bytes, vectors_per_head,
                                               row_tiles_total * n_kv_heads, ctx.pool.size());
    const int32_t head_ranges = n_kv_heads / range_heads;
    task_start[0] = 0;
    for (int32_t s = 0; s < batch->n_seqs; ++s) {
        const int64_t row_tiles = (batch->seqs[s].n_new + rows_per_task - 1) / rows_per_task;
        task_start[s + 1] = task_start[s] + row_tiles * head_ranges;
    }
    const int64_t n_tasks = task_start[batch->n_seqs];

    // Per thread: staged keys (tile_rows rows) and values, the task's scaled queries and output accumulators,
    // two rows of scores (query vectors go in pairs), and each query vector's running maximum and sum. A task's
    // query vectors go head by head: vector m of head j is at j * vectors_per_head + m.
    const size_t tile_floats = size_t(tile_rows) * d_pad;
    const int32_t vectors_per_task = vectors_per_head * range_heads;
    const size_t vector_floats = size_t(vectors_per_task) * d_pad;
    const size_t per_thread =
        2 * tile_floats + 2 * vector_floats + 2 * size_t(tile_rows) + 2 * size_t(vectors_per_task);
    auto* scratch = static_cast<float*>(ctx.thread_scratch.reserve(per_thread * sizeof(float) * ctx.pool.size()));

    const AttentionTileKernels& tiles = attention_tile_kernels(ctx.kernels->isa);
    const void* k_cache = cache->k[layer];
    const void* v_cache = cache->v[layer];
    const int32_t block_size = cache->block_size;
    const size_t range_bytes = head_bytes * size_t(range_heads);
    // Stages rows [p0, p0 + n) of one KV head as F32 rows of d_pad floats. When prefetch_head >= 0, row t of the
    // next tile (n_next rows from p_next) is asked for as row t is staged, the bytes of every head of the task's
    // range from prefetch_head on: one row's lines at a time, so the requests overlap the staging instead of filling
    // the miss queues in one burst.
    auto stage = [&](float* dst, const void* layer_cache, const llmatc_batch_seq& seq, int32_t kv_head, int64_t p0,
                     int32_t n, int64_t p_next, int32_t n_next, int32_t prefetch_head) {
        const auto* base = static_cast<const char*>(layer_cache);
        if (prefetch_head < 0) n_next = 0;
        for (int32_t t = 0; t < n; ++t) {
            const int64_t offset = slot_of(seq, block_size, p0 + t) * kv_row + int64_t(kv_head) * head_dim;
            if (t < n_next) {
                const size_t next = size_t(slot_of(seq, block_size, p_next + t) * kv_row +
                                           int64_t(prefetch_head) * head_dim) * element_bytes;
                for (size_t line = 0; line < range_bytes; line += 64) __builtin_prefetch(base + next + line);
            }
            float* row = dst + size_t(t) * d_pad;
            if (f16) tiles.load_row_f16(row, static_cast<const uint16_t*>(layer_cache) + offset, head_dim, d_pad);
            else tiles.load_row_f32(row, static_cast<const float*>(layer_cache) + offset, head_dim, d_pad);
        }
    };

    // The online softmax over one tile's scores s[0, n): turns them into weights (in place), folds their sum into
    // the running sum, and returns the factor the accumulated output must be rescaled by (0 on the first tile).
    auto softmax_update = [&tiles](float& running_max, float& running_sum, float* s, int32_t n) {
        const float new_max = std::max(running_max, tiles.max_of(s, n));
        const float rescale = std::exp(running_max - new_max);
        const float tile_sum = tiles.exp_sum(s, n, new_max);
        running_sum = running_sum * rescale + tile_sum;
        running_max = new_max;
        return rescale;
    };

    const int64_t chunk = ctx.pool.chunk_for_work(n_tasks, 1, work / double(std::max<int64_t>(n_tasks, 1)),
                                                  kMinAttentionChunkWork, 4);
    ctx.pool.parallel_for(n_tasks, chunk, [&](int64_t begin, int64_t end, int thread) {
        float* keys = scratch + per_thread * size_t(thread);
        float* values = keys + tile_floats;
        float* queries = values + tile_floats;
        float* acc = queries + vector_floats;
        float* scores = acc + vector_floats;
        float* scores_pair = scores + tile_rows;
        float* running_max = scores_pair + tile_rows;
        float* running_sum = running_max + vectors_per_task;
        for (int64_t task = begin; task < end; ++task) {
            const int64_t* after = std::upper_bound(task_start, task_start + batch->n_seqs + 1, task);
            const int32_t s = int32_t(after - task_start) - 1;  // the sequence whose tasks include `task`
            const llmatc_batch_seq& seq = batch->seqs[s];
            const int64_t local = task - task_start[s];
            const int32_t first_head = int32_t(local % head_ranges) * range_heads;
            const int32_t row0 = int32_t(local / head_ranges) * rows_per_task;  // first row within the sequence
            const int32_t n_rows = std::min(rows_per_task, seq.n_new - row0);
            const int32_t n_vectors = n_rows * group;  // per head
            // Query vector m of head j = row i, query head g of the group (i = m / group): scaled, padded copies.
            for (int32_t j = 0; j < range_heads; ++j) {
                for (int32_t m = 0; m < n_vectors; ++m) {
                    const int64_t r = int64_t(seq.first_row) + row0 + m / group;
                    const int32_t v = j * vectors_per_head + m;
                    const float* src = q + r * q_row + int64_t((first_head + j) * group + m % group) * head_dim;
                    float* dst = queries + size_t(v) * d_pad;
                    for (int32_t c = 0; c < head_dim; ++c) dst[c] = src[c] * scale;
                    for (int32_t c = head_dim; c < d_pad; ++c) dst[c] = 0.0f;
                    std::fill(acc + size_t(v) * d_pad, acc + size_t(v + 1) * d_pad, 0.0f);
                    running_max[v] = -std::numeric_limits<float>::infinity();
                    running_sum[v] = 0.0f;
                }
            }
            const int64_t first_position = int64_t(seq.n_past) + row0;
            const int64_t last_position = first_position + n_rows - 1;
            for (int64_t p0 = 0; p0 <= last_position; p0 += tile_rows) {
                const int32_t n_tile = int32_t(std::min<int64_t>(tile_rows, last_position - p0 + 1));
                const int32_t n_scored = (n_tile + kAttentionScoreGroup - 1) / kAttentionScoreGroup *
                                         kAttentionScoreGroup;
                // Blocks are scattered and a long context does not fit the cache: the hardware prefetcher alone
                // leaves the staging loads waiting on memory, so the next tile's rows (every head of the range)
                // are asked for ahead, while the range's first head is staged.
                const int64_t p_next = p0 + tile_rows;
                const int32_t n_next = int32_t(std::clamp<int64_t>(last_position - p_next + 1, 0, tile_rows));
                for (int32_t j = 0; j < range_heads; ++j) {
                    const int32_t kv_head = first_head + j;
                    const int32_t prefetch_head = j == 0 ? first_head : -1;
                    stage(keys, k_cache, seq, kv_head, p0, n_tile, p_next, n_next, prefetch_head);
                    std::fill(keys + size_t(n_tile) * d_pad, keys + size_t(n_scored) * d_pad, 0.0f);
                    stage(values, v_cache, seq, kv_head, p0, n_tile, p_next, n_next, prefetch_head);
                    float* head_queries = queries + size_t(j) * vectors_per_head * d_pad;
                    float* head_acc = acc + size_t(j) * vectors_per_head * d_pad;
                    float* head_max = running_max + size_t(j) * vectors_per_head;
                    float* head_sum = running_sum + size_t(j) * vectors_per_head;
                    // Query vectors of one row go in pairs (they see the same positions), so each staged key and
                    // value load serves two; a pair computes exactly what two single calls would.
                    for (int32_t m = 0; m < n_vectors;) {
                        const int64_t position = first_position + m / group;
                        if (position < p0) {  // the whole tile is in this row's future
                            ++m;
                            continue;
                        }
                        const int32_t n_visible = int32_t(std::min<int64_t>(n_tile, position - p0 + 1));
                        if (m + 1 < n_vectors && (m + 1) / group == m / group) {
                            tiles.dot_rows2(head_queries + size_t(m) * d_pad, head_queries + size_t(m + 1) * d_pad,
                                            keys, d_pad, n_visible, scores, scores_pair);
                            const float rescale0 = softmax_update(head_max[m], head_sum[m], scores, n_visible);
                            const float rescale1 =
                                softmax_update(head_max[m + 1], head_sum[m + 1], scores_pair, n_visible);
                            tiles.accumulate2(head_acc + size_t(m) * d_pad, head_acc + size_t(m + 1) * d_pad,
                                              rescale0, rescale1, scores, scores_pair, values, n_visible, d_pad);
                            m += 2;
                        } else {
                            tiles.dot_rows(head_queries + size_t(m) * d_pad, keys, d_pad, n_visible, scores);
                            const float rescale = softmax_update(head_max[m], head_sum[m], scores, n_visible);
                            tiles.accumulate(head_acc + size_t(m) * d_pad, rescale, scores, values, n_visible,
                                             d_pad);
                            ++m;
                        }
                    }
                }
            }
            for (int32_t j = 0; j < range_heads; ++j) {
                for (int32_t m = 0; m < n_vectors; ++m) {
                    const int64_t r = int64_t(seq.first_row) + row0 + m / group;
                    const int32_t v = j * vectors_per_head + m;
                    float* dst = out + r * q_row + int64_t((first_head + j) * group + m % group) * head_dim;
                    const float* o = acc + size_t(v) * d_pad;
                    const float inv_sum = 1.0f / running_sum[v];
                    for (int32_t c = 0; c < head_dim; ++c) dst[c] = o[c] * inv_sum;
                }
            }
        }
    });
}

}  // namespace llmatc::cpu
