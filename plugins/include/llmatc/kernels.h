/* llmatc/kernels.h — the kernel library's C interface: one table per backend (CPU in-core, CUDA in its own module). */
#ifndef LLMATC_KERNELS_H
#define LLMATC_KERNELS_H

#include "llmatc/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types of tensors in checkpoints, weights and the KV cache. Values are stable across versions. */
typedef enum llmatc_dtype {
    LLMATC_DTYPE_F32 = 0,
    LLMATC_DTYPE_F16 = 1,
    LLMATC_DTYPE_BF16 = 2,
    LLMATC_DTYPE_Q8_0 = 8,  /* blocks of 32: f16 scale + 32 x int8 (GGUF layout) */
    LLMATC_DTYPE_Q4_0 = 9,  /* blocks of 32: f16 scale + 16 bytes of nibbles (GGUF layout) */
    LLMATC_DTYPE_Q4_K = 10, /* super-blocks of 256 (GGUF layout) */
    LLMATC_DTYPE_Q6_K = 11, /* since 1.1: super-blocks of 256, 6-bit values, int8 scale per 16 (GGUF layout, 210 B) */
    LLMATC_DTYPE_Q5_K = 12, /* since 1.1: super-blocks of 256, 5-bit values, Q4_K's scales and mins (GGUF, 176 B) */
    LLMATC_DTYPE_I32 = 16,
    LLMATC_DTYPE_I64 = 17
} llmatc_dtype;

#define LLMATC_MAX_DIMS 4

/* A borrowed view of a tensor in host memory (typically memory-mapped from a checkpoint).
 * shape[0] is the outermost dimension (row-major, as in safetensors/PyTorch): a Linear weight is [out, in]. */
typedef struct llmatc_tensor_view {
    uint32_t struct_size;
    uint32_t abi_version;
    llmatc_dtype dtype;
    int32_t n_dims;                 /* 1..LLMATC_MAX_DIMS */
    int64_t shape[LLMATC_MAX_DIMS]; /* unused trailing entries are 1 */
    const void* data;               /* first element; valid as long as the tensor source lives (but see flags) */
    uint64_t nbytes;                /* exact byte size of the data */
    uint32_t flags;                 /* since 1.2: LLMATC_TENSOR_* bits; read as 0 from a smaller struct_size */
} llmatc_tensor_view;

/* flags: the data is a copy the tensor source made for this request (e.g. GGUF q/k rows put back in Hugging Face
 * order) and frees once the model being built from it exists: a backend's weight_create must copy it, never keep
 * the pointer. */
#define LLMATC_TENSOR_TRANSIENT 1u
/* The size of a view before `flags` (ABI 1.0-1.1); readers accept views at least this large. */
#define LLMATC_TENSOR_VIEW_MIN_SIZE offsetof(llmatc_tensor_view, flags)

/* A weight prepared by a backend for its kernels (converted, repacked, quantized or uploaded). Opaque. */
typedef struct llmatc_weight llmatc_weight;

/* The paged KV cache, allocated and owned by the engine through the backend's alloc.
 * For each layer L, k[L] and v[L] hold n_blocks * block_size slots; slot s = block * block_size + offset holds
 * n_kv_heads * head_dim elements of `dtype`, contiguous. */
typedef struct llmatc_kv_cache {
    uint32_t struct_size;
    uint32_t abi_version;
    llmatc_dtype dtype;   /* F32 or F16 */
    int32_t n_layers;
    int32_t n_kv_heads;
    int32_t head_dim;
    int32_t block_size;   /* tokens per block */
    int32_t n_blocks;
    void* const* k;       /* [n_layers] backend pointers */
    void* const* v;       /* [n_layers] backend pointers */
} llmatc_kv_cache;

/* One sequence's part of a batch. Its tokens occupy rows first_row .. first_row + n_new - 1 of the batch, at
 * positions n_past .. n_past + n_new - 1. After the step, the cache holds n_past + n_new tokens for it. */
typedef struct llmatc_batch_seq {
    const int32_t* block_table; /* [n_blocks] block ids in the KV cache, in token order (host memory) */
    int32_t n_blocks;           /* must cover n_past + n_new tokens */
    int32_t n_past;             /* tokens already in the cache before this step */
    int32_t n_new;              /* tokens of this sequence in this batch (>= 1) */
    int32_t first_row;          /* batch row of its first new token */
} llmatc_batch_seq;

/* One engine step: any mix of prefill chunks and decode tokens from many sequences. All pointers are host memory,
 * borrowed for the duration of the call. */
typedef struct llmatc_batch {
    uint32_t struct_size;
    uint32_t abi_version;
    int32_t n_tokens;                /* rows in the batch */
    const int32_t* token_ids;        /* [n_tokens] */
    const int32_t* positions;        /* [n_tokens] absolute positions (for RoPE) */
    int32_t n_seqs;
    const llmatc_batch_seq* seqs;    /* [n_seqs], rows of different sequences do not interleave */
    int32_t n_logit_rows;            /* rows whose logits are wanted (usually each sequence's last row) */
    const int32_t* logit_rows;       /* [n_logit_rows] row indices, ascending */
    float* logits;                   /* out, host: [n_logit_rows, vocab_size]; may be NULL when n_logit_rows == 0 */
    float* hidden;                   /* out, host, optional (NULL = not wanted): [n_tokens, hidden_size], the
                                        final-norm hidden state of every row (for embeddings) */
    /* Since 1.1. out, backend memory, optional: when non-NULL, the model writes the wanted rows' logits here
     * ([n_logit_rows, vocab_size], allocated by the caller with the backend's alloc) instead of to `logits`, which
     * may then be NULL; the caller samples them where they are (llmatc_kernels.sample) so only token ids cross
     * back. A model reads it only when struct_size covers it; a caller sets it only for a model plugin built for
     * ABI 1.1 or later (a 1.0 model would not know to write it). */
    float* device_logits;
} llmatc_batch;

/* Since 1.1. One logits row's sampling parameters for llmatc_kernels.sample (host memory). The choice is the
 * engine's host sampler's (core/engine/sampler.h) without penalties, logit_bias or masking:
 *   temperature == 0: argmax of the raw logits (lowest id on ties);
 *   otherwise x = logit / temperature (F32), candidates sorted best first (lowest id on ties), the first top_k
 *   (0 = all), p_i = exp(x_i - x_best) in double; top_p < 1 keeps the smallest prefix whose share of the mass
 *   reaches top_p (at least one); min_p > 0 then keeps the prefix with p_i >= min_p * p_best; the token is the
 *   first candidate whose cumulative p exceeds u * (sum of kept p), the last kept one if none does; a chosen token
 *   whose x is -inf is replaced by the argmax. */
typedef struct llmatc_sample_params {
    uint32_t struct_size; /* elements of an array are struct_size bytes apart (params[0]'s), so this can grow */
    uint32_t abi_version;
    float temperature;    /* >= 0 */
    int32_t top_k;        /* >= 0, 0 = no limit */
    float top_p;          /* (0, 1] */
    float min_p;          /* [0, 1] */
    double u;             /* uniform in [0, 1), drawn by the caller from the request's RNG (unused when greedy) */
} llmatc_sample_params;

/* A kernel backend. Activations are F32 buffers in the backend's memory (host memory for CPU, device memory for
 * CUDA), obtained from alloc. Calls on one backend are made from one thread at a time (the engine's step thread);
 * the backend parallelises inside each call with its own threads. Functions return LLMATC_OK or set an error. */
typedef struct llmatc_kernels {
    uint32_t struct_size;
    uint32_t abi_version;
    const char* name;  /* "cpu", "cuda" */
    void* ctx;         /* backend state, passed back as the first argument of every function */

    /* Backend memory. alloc returns NULL on failure; free(NULL) is a no-op. Contents are uninitialised. */
    void* (*alloc)(void* ctx, size_t bytes);
    void (*free)(void* ctx, void* ptr);
    /* Copies between host memory and backend memory (plain memcpy on the CPU backend). */
    llmatc_status (*to_backend)(void* ctx, void* dst, const void* host_src, size_t bytes);
    llmatc_status (*to_host)(void* ctx, void* host_dst, const void* src, size_t bytes);
    /* Waits for all queued work (no-op on CPU). */
    llmatc_status (*synchronize)(void* ctx);

    /* Prepares a weight for this backend's kernels from a checkpoint tensor. `storage` is the dtype it is kept in:
     * the source dtype, F32, or a quantized type (LLMATC_DTYPE_Q8_0 ...). 1-D tensors (norm weights) and 2-D
     * tensors [out, in] are accepted. The source view is not referenced after the call unless the backend keeps
     * a zero-copy reference into memory-mapped data, which the caller keeps alive as long as the weight. */
    llmatc_status (*weight_create)(void* ctx, const llmatc_tensor_view* src, llmatc_dtype storage,
                                   llmatc_weight** out);
    void (*weight_destroy)(void* ctx, llmatc_weight* w);
    /* Bytes the weight occupies in backend memory (for reporting and bandwidth bounds). */
    uint64_t (*weight_bytes)(void* ctx, const llmatc_weight* w);

    /* y[n, out] = x[n, in] * W^T for a 2-D weight W [out, in]; F32 accumulation. */
    llmatc_status (*matmul)(void* ctx, const llmatc_weight* w, const float* x, int64_t n, float* y);
    /* out[i, :] = table[ids[i], :] as F32, ids in host memory; an id out of range is an error. */
    llmatc_status (*embedding)(void* ctx, const llmatc_weight* table, const int32_t* ids, int64_t n, float* out);
    /* out[i, :] = x[i, :] / sqrt(mean(x[i, :]^2) + eps) * w, for n rows of `dim`. out may equal x. */
    llmatc_status (*rmsnorm)(void* ctx, const float* x, const llmatc_weight* w, int64_t n, int64_t dim, float eps,
                             float* out);
    /* Rotary embedding in place, rotate_half (GPT-NeoX / HF Llama) convention, on x[n, n_heads, head_dim]:
     * angle(p, i) = (positions[p] / pos_scale) * theta^(-2i/head_dim), i < head_dim/2. pos_scale is linear
     * rope_scaling's factor (1 when none). positions are host memory. */
    llmatc_status (*rope)(void* ctx, float* x, const int32_t* positions, int64_t n, int32_t n_heads,
                          int32_t head_dim, float theta, float pos_scale);
    /* out[i] = silu(gate[i]) * up[i], i < n. out may equal gate. */
    llmatc_status (*silu_mul)(void* ctx, const float* gate, const float* up, int64_t n, float* out);
    /* x[i] += y[i], i < n. */
    llmatc_status (*add)(void* ctx, float* x, const float* y, int64_t n);
    /* Softmax of each of n rows of `dim`, in place. */
    llmatc_status (*softmax)(void* ctx, float* x, int64_t n, int64_t dim);
    /* Writes the batch's new keys and values (k, v: [n_tokens, n_kv_heads * head_dim]) of `layer` into the cache
     * slots given by each sequence's block table and positions n_past... */
    llmatc_status (*kv_write)(void* ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                              const float* k, const float* v);
    /* Causal attention of the batch's queries q [n_tokens, n_heads, head_dim] over each sequence's cached keys and
     * values of `layer` (positions 0 .. its own position), grouped-query (head h reads kv head
     * h / (n_heads / n_kv_heads)), scores scaled by `scale`. out: [n_tokens, n_heads, head_dim]. */
    llmatc_status (*attention)(void* ctx, const llmatc_kv_cache* cache, int32_t layer, const llmatc_batch* batch,
                               const float* q, int32_t n_heads, float scale, float* out);

    /* Since 1.1; NULL = not supported (the engine samples on the host). Chooses one token per row of `logits`
     * (backend memory, [n_rows, vocab], e.g. llmatc_batch.device_logits) by `params` (host, [n_rows], see
     * llmatc_sample_params) into out_tokens (host, [n_rows]); out_logprobs (host, [n_rows], optional, NULL = not
     * wanted) receives each chosen token's log_softmax over the raw logits row. Synchronous: the outputs are set
     * when it returns. Present only when struct_size >= offsetof(llmatc_kernels, sample) + sizeof(void*). */
    llmatc_status (*sample)(void* ctx, const float* logits, int64_t n_rows, int32_t vocab,
                            const llmatc_sample_params* params, int32_t* out_tokens, float* out_logprobs);
} llmatc_kernels;

#ifdef __cplusplus
}
#endif

#endif /* LLMATC_KERNELS_H */
