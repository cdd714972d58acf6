// core/kernels/cpu/thread_pool.h — the CPU backend's persistent compute threads: a parallel-for without per-call
// thread creation, heap allocation or locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace llmatc::cpu {

// A fixed set of worker threads plus the calling thread. parallel_for hands out chunks of an index range
// dynamically; the caller takes part and returns when every chunk is done.
//
// Robust under oversubscription (more runnable threads than cores): the caller waits only for chunks that a
// worker actually claimed, never for a worker that is descheduled and has not joined the job, so a late worker
// costs nothing; chunks nobody claimed are done by the caller itself. Idle threads spin briefly (kernel calls of a
// model step come microseconds apart), then sleep on a futex (std::atomic::wait).
//
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
    // A job of one chunk runs inline on the caller.
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

    // Like chunk_for, but never smaller than what holds `min_work` units of work when one item costs
    // `work_per_item`: tiny jobs then form a single chunk and run inline instead of fanning out, where waking
    // threads costs more than the work.
    int64_t chunk_for_work(int64_t n_items, int64_t multiple, double work_per_item, double min_work,
                           int chunks_per_thread = 4) const;

private:
    using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end, int thread);

    void run(RangeFn fn, void* ctx, int64_t n_items, int64_t chunk);
    void worker_loop(int thread_index);
    // Claims and runs chunks of the published job until none is left; true if it ran at least one.
    bool work_on_current_job(int thread_index);
    bool job_has_unclaimed_chunks() const { return uint32_t(cursor_.load(std::memory_order_acquire)) != 0; }

    int n_threads_;
    std::vector<std::thread> workers_;

    // The current job. Its fields are written (relaxed) before cursor_ is published (release), and only after the
    // previous job's chunks are all done; a thread that read them validates them by claiming a chunk with a CAS on
    // cursor_, which fails if another job was published meanwhile.
    std::atomic<RangeFn> job_fn_{nullptr};
    std::atomic<void*> job_ctx_{nullptr};
    std::atomic<int64_t> job_items_{0};
    std::atomic<int64_t> job_chunk_{1};
    uint32_t job_id_ = 0;  // caller-only counter

    // (job id << 32) | chunks not yet claimed; chunks are claimed from the last one down.
    alignas(64) std::atomic<uint64_t> cursor_{0};
    // Chunks of the current job that have finished; the caller waits for all of them.
    alignas(64) std::atomic<uint32_t> chunks_done_{0};
    std::atomic<bool> caller_sleeping_{false};
    // Workers sleep on wake_epoch_; the caller bumps and notifies it only while sleeping_workers_ > 0.
    alignas(64) std::atomic<uint32_t> wake_epoch_{0};
    std::atomic<int> sleeping_workers_{0};
    std::atomic<bool> stopping_{false};
};

}  // namespace llmatc::cpu
