// core/kernels/cpu/thread_pool.h — the CPU backend's persistent compute threads: a parallel-for without per-call
// thread creation or heap allocation.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace llmatc::cpu {

// A fixed set of worker threads plus the calling thread. parallel_for hands out chunks of an index range
// dynamically; the caller takes part and returns when every chunk is done.
// Thread safety: one parallel_for at a time (the kernel table is called from one thread at a time); a body must
// not call parallel_for on the same pool.
class ThreadPool {
public:
    // n_threads counts the caller: n_threads - 1 workers are started. 0 = std::thread::hardware_concurrency().
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // Calls body(begin, end, thread_index) over [0, n_items) in chunks of `chunk` items (the last may be shorter);
    // thread_index < size() identifies the executing thread, for per-thread scratch. body must not throw.
    template <class Body>
    void parallel_for(int64_t n_items, int64_t chunk, Body&& body) {
        if (n_items <= 0) return;
        if (chunk < 1) chunk = 1;
        auto trampoline = [](void* ctx, int64_t begin, int64_t end, int thread) {
            (*static_cast<std::remove_reference_t<Body>*>(ctx))(begin, end, thread);
        };
        run(trampoline, const_cast<void*>(static_cast<const void*>(&body)), n_items, chunk);
    }

    // A chunk size giving each thread about `chunks_per_thread` chunks, rounded up to a multiple of `multiple`.
    int64_t chunk_for(int64_t n_items, int64_t multiple, int chunks_per_thread = 4) const;

private:
    using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end, int thread);

    void run(RangeFn fn, void* ctx, int64_t n_items, int64_t chunk);
    void worker_loop(int thread_index);
    void work_on_current_job(int thread_index);

    int n_threads_;
    std::vector<std::thread> workers_;

    // The current job, published before `generation_` is bumped (release) and read after it is seen (acquire).
    RangeFn job_fn_ = nullptr;
    void* job_ctx_ = nullptr;
    int64_t job_items_ = 0;
    int64_t job_chunk_ = 1;
    alignas(64) std::atomic<int64_t> next_item_{0};
    alignas(64) std::atomic<uint32_t> generation_{0};
    alignas(64) std::atomic<uint32_t> workers_busy_{0};
    std::atomic<bool> stopping_{false};

    // Sleeping after the spin: workers wait on job_ready_ for a new generation, the caller on job_done_ for
    // workers_busy_ == 0. Every state change is published under sleep_mutex_ before notifying, so no wake-up is lost.
    std::mutex sleep_mutex_;
    std::condition_variable job_ready_;
    std::condition_variable job_done_;
};

}  // namespace llmatc::cpu
