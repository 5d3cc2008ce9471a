// A pool of worker threads that spin briefly between jobs, for the many short parallel
// regions of a forward (a ViT-Ti forward at batch 1 splits about 70 GEMMs and attention
// blocks of 20-200 µs over two threads).
//
// Why not GCD's concurrentPerform: its workers sleep between regions, and waking one on a
// virtual machine took 30-70 µs, so a region of two 17 µs halves took 48 µs (median) and
// most ran both halves on the caller's thread. OpenMP runtimes, which PyTorch uses, spin for
// a while before sleeping for the same reason. Here a worker spins for up to 2 ms after its
// last job (CVA_SPIN_MICROSECONDS sets it; 0 sleeps at once, for machines shared with other
// work), then sleeps on a condition variable. Counted over a ViT training step's parallel
// regions, 9% found the worker asleep with 200 µs of spinning, 4% with 2 ms; a ViT-Ti
// forward's 1% and none.
//
// One job at a time: a call made while another thread's job runs, or from inside a job,
// runs its iterations inline on the calling thread (never a deadlock, never oversubscribed).
#define _GNU_SOURCE  // sched_getaffinity, CPU_COUNT
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "CVAKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 255, DEFAULT_SPIN_MICROSECONDS = 2000 };

// How long a worker spins after a job before it sleeps: CVA_SPIN_MICROSECONDS, else the default.
static uint64_t spin_nanoseconds(void) {
  static _Atomic int64_t cached = -1;
  int64_t value = atomic_load_explicit(&cached, memory_order_relaxed);
  if (value < 0) {
    const char *text = getenv("CVA_SPIN_MICROSECONDS");
    char *end = NULL;
    long long micros = text && *text ? strtoll(text, &end, 10) : -1;
    if (micros < 0 || micros > 10000000 || (end && *end)) micros = DEFAULT_SPIN_MICROSECONDS;
    value = (int64_t)micros * 1000;
    atomic_store_explicit(&cached, value, memory_order_relaxed);
  }
  return (uint64_t)value;
}

// The job word: the job's sequence number in the high 32 bits, the next unclaimed index in
// the low 32. A thread claims an index by compare-and-swap on the whole word, so a worker
// that wakes after its job ended fails to claim (the sequence moved on) instead of reading
// the next job's fields half written.
static _Atomic uint64_t job_word;
static void (*job_function)(void *, size_t);
static void *job_context;
// Count and threads are atomic (relaxed) because a late worker may read them while the owner
// writes the next job's; only a successful claim makes what it read count.
static _Atomic uint32_t job_count;
static _Atomic uint32_t job_threads;    // the caller plus this many - 1 workers take part
static _Atomic uint32_t job_completed;  // iterations finished
static atomic_flag job_busy = ATOMIC_FLAG_INIT;

static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_wake = PTHREAD_COND_INITIALIZER;
static _Atomic int sleepers;
static size_t workers_started;  // only the job's owner (holding job_busy) starts workers
static _Thread_local int inside_job;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// Claims and runs iterations of job `sequence` until none is left.
static void run_iterations(uint32_t sequence) {
  for (;;) {
    uint64_t word = atomic_load_explicit(&job_word, memory_order_acquire);
    if ((uint32_t)(word >> 32) != sequence || (uint32_t)word >= atomic_load_explicit(&job_count, memory_order_relaxed)) return;
    // job_count was read before the claim; a claim that succeeds proves the job is still
    // `sequence` (it cannot end before this index completes), so the read was this job's.
    if (!atomic_compare_exchange_weak_explicit(&job_word, &word, word + 1, memory_order_acq_rel, memory_order_acquire))
      continue;
    job_function(job_context, (size_t)(uint32_t)word);
    atomic_fetch_add_explicit(&job_completed, 1, memory_order_release);
  }
}

static void *worker_main(void *argument) {
  uint32_t rank = (uint32_t)(uintptr_t)argument;  // 1, 2, ...: the caller is 0
  uint32_t seen = 0;
  inside_job = 1;  // a parallel call from inside a job runs inline
  for (;;) {
    uint64_t start = now_ns();
    uint32_t sequence;
    for (unsigned spins = 0;; spins++) {
      sequence = (uint32_t)(atomic_load_explicit(&job_word, memory_order_acquire) >> 32);
      if (sequence != seen) break;
      CPU_RELAX();
      if ((spins & 63) != 63) continue;
      // Every 64 pauses, let any other thread waiting for this processor run first: the spin
      // is for an idle core, and without the yield the test suite's parallel tests (many
      // threads, each calling in turn) ran 14% longer.
      sched_yield();
      if (now_ns() - start < spin_nanoseconds()) continue;
      // Sleep. The owner bumps the sequence, then reads `sleepers`; this thread counts itself
      // in, then re-reads the sequence (both sequentially consistent), so one of the two sees
      // the other and no wake-up is lost.
      pthread_mutex_lock(&sleep_lock);
      atomic_fetch_add(&sleepers, 1);
      while ((uint32_t)(atomic_load(&job_word) >> 32) == seen) pthread_cond_wait(&sleep_wake, &sleep_lock);
      atomic_fetch_sub(&sleepers, 1);
      pthread_mutex_unlock(&sleep_lock);
      start = now_ns();
    }
    seen = sequence;
    if (rank < atomic_load_explicit(&job_threads, memory_order_relaxed)) run_iterations(sequence);
  }
  return NULL;
}

size_t cva_usable_cpus(void) {
  static _Atomic size_t cached;
  size_t count = atomic_load_explicit(&cached, memory_order_relaxed);
  if (count == 0) {
    cpu_set_t set;
    count = sched_getaffinity(0, sizeof set, &set) == 0 ? (size_t)CPU_COUNT(&set) : 0;
    if (count == 0) {
      long online = sysconf(_SC_NPROCESSORS_ONLN);
      count = online > 0 ? (size_t)online : 1;
    }
    atomic_store_explicit(&cached, count, memory_order_relaxed);
  }
  return count;
}

static void ensure_workers(size_t wanted) {
  while (workers_started < wanted && workers_started < MAX_WORKERS) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&thread, &attributes, worker_main, (void *)(uintptr_t)(workers_started + 1));
    pthread_attr_destroy(&attributes);
    if (failed) return;  // fewer workers: the caller claims the iterations they would have run
    workers_started++;
  }
}

size_t cva_parallel_for(size_t count, size_t threads, void (*function)(void *context, size_t index), void *context) {
  if (count == 0) return 0;
  // Never more threads than processors this process may run on: a spinning worker without a
  // processor of its own takes time from the one doing the work (a Slurm job given 2 CPUs of
  // a 64-core node still sees 64 online).
  if (threads > cva_usable_cpus()) threads = cva_usable_cpus();
  if (threads > count) threads = count;
  if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
  if (threads <= 1 || count > UINT32_MAX || inside_job || atomic_flag_test_and_set_explicit(&job_busy, memory_order_acquire)) {
    for (size_t i = 0; i < count; i++) function(context, i);
    return 1;
  }
  static uint32_t sequence;  // written only by the owner of job_busy
  ensure_workers(threads - 1);
  sequence = sequence + 1 == 0 ? 1 : sequence + 1;  // 0 is the workers' initial `seen`
  job_function = function;
  job_context = context;
  atomic_store_explicit(&job_count, (uint32_t)count, memory_order_relaxed);
  atomic_store_explicit(&job_threads, (uint32_t)threads, memory_order_relaxed);
  atomic_store_explicit(&job_completed, 0, memory_order_relaxed);
  // Publishes the fields above with the new sequence (sequentially consistent: see the sleep).
  atomic_store(&job_word, (uint64_t)sequence << 32);
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&sleep_lock);
    pthread_cond_broadcast(&sleep_wake);
    pthread_mutex_unlock(&sleep_lock);
  }
  inside_job = 1;
  run_iterations(sequence);
  inside_job = 0;
  // Every index is claimed; wait for the ones other threads are still running.
  while (atomic_load_explicit(&job_completed, memory_order_acquire) < (uint32_t)count) CPU_RELAX();
  atomic_flag_clear_explicit(&job_busy, memory_order_release);
  return threads;
}
