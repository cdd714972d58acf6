// core/kernels/cpu/thread_pool.cpp — the persistent worker threads behind the CPU backend's parallel kernels.
#include "kernels/cpu/thread_pool.h"

#include <algorithm>
#include <cmath>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LLMATC_CPU_RELAX() _mm_pause()
#else
#define LLMATC_CPU_RELAX() std::this_thread::yield()
#endif

namespace llmatc::cpu {

namespace {
// Kernel calls come back to back during a model step (microseconds apart), so idle threads spin briefly before
// sleeping on a futex; the bound (tens of microseconds) keeps an idle engine from burning the shared cores.
constexpr int kSpinIterations = 2000;
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
    if (n_threads <= 0) n_threads = int(std::max(1u, std::thread::hardware_concurrency()));
    n_threads_ = n_threads;
    workers_.reserve(size_t(n_threads_ - 1));
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    stopping_.store(true, std::memory_order_seq_cst);
    wake_epoch_.fetch_add(1, std::memory_order_seq_cst);
    wake_epoch_.notify_all();
    for (auto& worker : workers_) worker.join();
}

int64_t ThreadPool::chunk_for(int64_t n_items, int64_t multiple, int chunks_per_thread) const {
    if (multiple < 1) multiple = 1;
    const int64_t pieces = int64_t(n_threads_) * std::max(1, chunks_per_thread);
    int64_t chunk = (n_items + pieces - 1) / pieces;
    chunk = (chunk + multiple - 1) / multiple * multiple;
    return std::max<int64_t>(chunk, multiple);
}

int64_t ThreadPool::chunk_for_work(int64_t n_items, int64_t multiple, double work_per_item, double min_work,
                                   int chunks_per_thread) const {
    int64_t chunk = chunk_for(n_items, multiple, chunks_per_thread);
    if (work_per_item > 0.0 && double(chunk) * work_per_item < min_work) {
        const double needed = std::ceil(min_work / work_per_item);
        const int64_t m = std::max<int64_t>(multiple, 1);
        chunk = needed >= double(n_items) ? n_items : (int64_t(needed) + m - 1) / m * m;
    }
    return std::max<int64_t>(chunk, 1);
}

bool ThreadPool::work_on_current_job(int thread_index) {
    bool worked = false;
    uint64_t cursor = cursor_.load(std::memory_order_acquire);
    for (;;) {
        const uint32_t remaining = uint32_t(cursor);
        if (remaining == 0) return worked;
        // Read before the claim; a successful CAS proves they belong to the job `cursor` names (see header).
        const RangeFn fn = job_fn_.load(std::memory_order_relaxed);
        void* const ctx = job_ctx_.load(std::memory_order_relaxed);
        const int64_t items = job_items_.load(std::memory_order_relaxed);
        const int64_t chunk = job_chunk_.load(std::memory_order_relaxed);
        if (!cursor_.compare_exchange_weak(cursor, cursor - 1, std::memory_order_acq_rel,
                                           std::memory_order_acquire))
            continue;  // `cursor` now holds the fresh value
        const int64_t begin = int64_t(remaining - 1) * chunk;
        fn(ctx, begin, std::min(begin + chunk, items), thread_index);
        worked = true;
        chunks_done_.fetch_add(1, std::memory_order_seq_cst);
        if (thread_index != 0 && caller_sleeping_.load(std::memory_order_seq_cst)) chunks_done_.notify_one();
        cursor = cursor_.load(std::memory_order_acquire);
    }
}

void ThreadPool::run(RangeFn fn, void* ctx, int64_t n_items, int64_t chunk) {
    const int64_t n_chunks = (n_items + chunk - 1) / chunk;
    if (n_threads_ == 1 || n_chunks <= 1 || n_chunks > int64_t(UINT32_MAX)) {
        fn(ctx, 0, n_items, 0);
        return;
    }
    job_fn_.store(fn, std::memory_order_relaxed);
    job_ctx_.store(ctx, std::memory_order_relaxed);
    job_items_.store(n_items, std::memory_order_relaxed);
    job_chunk_.store(chunk, std::memory_order_relaxed);
    chunks_done_.store(0, std::memory_order_relaxed);
    ++job_id_;
    cursor_.store((uint64_t(job_id_) << 32) | uint64_t(n_chunks), std::memory_order_seq_cst);
    if (sleeping_workers_.load(std::memory_order_seq_cst) > 0) {
        wake_epoch_.fetch_add(1, std::memory_order_seq_cst);
        wake_epoch_.notify_all();
    }

    work_on_current_job(0);

    // Every chunk is claimed; wait for the ones still running on workers.
    const auto total = uint32_t(n_chunks);
    for (int spin = 0; spin < kSpinIterations; ++spin) {
        if (chunks_done_.load(std::memory_order_acquire) == total) return;
        LLMATC_CPU_RELAX();
    }
    caller_sleeping_.store(true, std::memory_order_seq_cst);
    for (;;) {
        const uint32_t done = chunks_done_.load(std::memory_order_seq_cst);
        if (done == total) break;
        chunks_done_.wait(done, std::memory_order_seq_cst);
    }
    caller_sleeping_.store(false, std::memory_order_relaxed);
}

void ThreadPool::worker_loop(int thread_index) {
    for (;;) {
        if (stopping_.load(std::memory_order_acquire)) return;
        if (work_on_current_job(thread_index)) continue;
        bool found = false;
        for (int spin = 0; spin < kSpinIterations && !found; ++spin) {
            LLMATC_CPU_RELAX();
            found = job_has_unclaimed_chunks();
        }
        if (found) continue;
        // Announce the sleep before the last look for work, so that a job published after that look sees a
        // sleeper and bumps the epoch (both sides use sequentially consistent operations).
        sleeping_workers_.fetch_add(1, std::memory_order_seq_cst);
        const uint32_t epoch = wake_epoch_.load(std::memory_order_seq_cst);
        if (!job_has_unclaimed_chunks() && !stopping_.load(std::memory_order_seq_cst)) wake_epoch_.wait(epoch);
        sleeping_workers_.fetch_sub(1, std::memory_order_seq_cst);
    }
}

}  // namespace llmatc::cpu
