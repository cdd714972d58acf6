// core/kernels/cpu/thread_pool.cpp — the persistent worker threads behind the CPU backend's parallel kernels.
#include "kernels/cpu/thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LLMATC_CPU_RELAX() _mm_pause()
#else
#define LLMATC_CPU_RELAX() std::this_thread::yield()
#endif

namespace llmatc::cpu {

namespace {
// Kernel calls come back to back during a model step (microseconds apart), so workers spin briefly before
// sleeping on a futex; the bound keeps an idle engine from burning the (shared) cores.
constexpr int kSpinIterations = 4000;
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
    if (n_threads <= 0) n_threads = int(std::max(1u, std::thread::hardware_concurrency()));
    n_threads_ = n_threads;
    workers_.reserve(size_t(n_threads_ - 1));
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        stopping_.store(true, std::memory_order_release);
        generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    job_ready_.notify_all();
    for (auto& worker : workers_) worker.join();
}

int64_t ThreadPool::chunk_for(int64_t n_items, int64_t multiple, int chunks_per_thread) const {
    if (multiple < 1) multiple = 1;
    const int64_t pieces = int64_t(n_threads_) * std::max(1, chunks_per_thread);
    int64_t chunk = (n_items + pieces - 1) / pieces;
    chunk = (chunk + multiple - 1) / multiple * multiple;
    return std::max<int64_t>(chunk, multiple);
}

void ThreadPool::work_on_current_job(int thread_index) {
    for (;;) {
        const int64_t begin = next_item_.fetch_add(job_chunk_, std::memory_order_relaxed);
        if (begin >= job_items_) return;
        job_fn_(job_ctx_, begin, std::min(begin + job_chunk_, job_items_), thread_index);
    }
}

void ThreadPool::run(RangeFn fn, void* ctx, int64_t n_items, int64_t chunk) {
    if (n_threads_ == 1 || n_items <= chunk) {
        fn(ctx, 0, n_items, 0);
        return;
    }
    job_fn_ = fn;
    job_ctx_ = ctx;
    job_items_ = n_items;
    job_chunk_ = chunk;
    next_item_.store(0, std::memory_order_relaxed);
    workers_busy_.store(uint32_t(n_threads_ - 1), std::memory_order_relaxed);
    {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        generation_.fetch_add(1, std::memory_order_release);
    }
    job_ready_.notify_all();

    work_on_current_job(0);

    // Wait until every worker has left the job, so that the next job's fields can be overwritten.
    for (int spin = 0;; ++spin) {
        const uint32_t busy = workers_busy_.load(std::memory_order_acquire);
        if (busy == 0) return;
        if (spin < kSpinIterations) {
            LLMATC_CPU_RELAX();
        } else {
            std::unique_lock<std::mutex> lock(sleep_mutex_);
            job_done_.wait(lock, [this] { return workers_busy_.load(std::memory_order_acquire) == 0; });
        }
    }
}

void ThreadPool::worker_loop(int thread_index) {
    // Generation 0 is the pool's state at construction; reading the atomic here instead could already see the
    // first job's bump (the thread may start late) and then wait for it forever.
    uint32_t seen = 0;
    for (;;) {
        for (int spin = 0;; ++spin) {
            const uint32_t now = generation_.load(std::memory_order_acquire);
            if (now != seen) {
                seen = now;
                break;
            }
            if (spin < kSpinIterations) {
                LLMATC_CPU_RELAX();
            } else {
                std::unique_lock<std::mutex> lock(sleep_mutex_);
                job_ready_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
            }
        }
        if (stopping_.load(std::memory_order_acquire)) return;
        work_on_current_job(thread_index);
        bool last;
        {
            std::lock_guard<std::mutex> lock(sleep_mutex_);
            last = workers_busy_.fetch_sub(1, std::memory_order_acq_rel) == 1;
        }
        if (last) job_done_.notify_one();
    }
}

}  // namespace llmatc::cpu
