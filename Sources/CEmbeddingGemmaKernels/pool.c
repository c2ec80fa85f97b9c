/* A small thread pool for the engine's parallel steps. Generating one token runs about 130 matrix
   products of 30-200 microseconds each; waking a parked libdispatch worker for each of them cost
   more than a tenth of the time (perf: the scheduler's wake-up paths). These workers spin for a
   short while after each job, so back-to-back jobs find them awake, and sleep on a condition
   variable after that.

   Claiming a task is one compare-and-swap on a 64-bit ticket (job number << 32 | next task), so
   a worker can never run a task of a job that has already finished: tickets only grow (a new job
   is first marked "not ready" while it is described), and the swap fails if the job changed after
   the worker read its description. */
#include "CEmbeddingGemmaKernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define EG_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define EG_PAUSE() __asm__ volatile("yield")
#else
#define EG_PAUSE() ((void)0)
#endif

/* How long an idle worker spins before it sleeps. */
#define EG_SPIN_NANOSECONDS 200000L
#define EG_MAX_WORKERS 255

static struct {
    pthread_mutex_t running; /* held by the thread whose job the pool runs */
    pthread_mutex_t lock;    /* guards sleeping workers */
    pthread_cond_t wake;
    _Atomic uint64_t ticket; /* job << 32 | next task index */
    _Atomic int finished;    /* tasks of the current job done */
    _Atomic int sleepers;
    _Atomic(eg_pool_task) task;
    _Atomic(void *) context;
    _Atomic int count;
    _Atomic int workers;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL, NULL, 0, 0};

static long eg_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* The task index of a ticket whose job is still being described: nothing may be claimed yet. */
#define EG_NOT_READY 0xFFFFFFFFu

/* Runs tasks of the current job until none is left; returns the job number it saw drained. */
static uint32_t eg_pool_drain(void) {
    for (;;) {
        uint64_t t = atomic_load(&pool.ticket);
        const uint32_t index = (uint32_t)t;
        if (index == EG_NOT_READY) {
            EG_PAUSE();
            continue;
        }
        const eg_pool_task task = atomic_load(&pool.task);
        void *context = atomic_load(&pool.context);
        const int count = atomic_load(&pool.count);
        if ((int)index >= count) return (uint32_t)(t >> 32);
        /* Succeeds only if the ticket did not move since it was read, so the job read above was current. */
        if (atomic_compare_exchange_weak(&pool.ticket, &t, t + 1)) {
            task(context, (int)index);
            atomic_fetch_add(&pool.finished, 1);
        }
    }
}

static void *eg_pool_worker(void *unused) {
    (void)unused;
    uint32_t seen = 0;
    for (;;) {
        const long deadline = eg_nanoseconds() + EG_SPIN_NANOSECONDS;
        int spins = 0;
        while ((uint32_t)(atomic_load(&pool.ticket) >> 32) == seen) {
            EG_PAUSE();
            if (++spins % 256 == 0 && eg_nanoseconds() > deadline) {
                pthread_mutex_lock(&pool.lock);
                atomic_fetch_add(&pool.sleepers, 1);
                while ((uint32_t)(atomic_load(&pool.ticket) >> 32) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
                atomic_fetch_sub(&pool.sleepers, 1);
                pthread_mutex_unlock(&pool.lock);
            }
        }
        seen = eg_pool_drain();
    }
    return NULL;
}

int eg_pool_start(int threads) {
    pthread_mutex_lock(&pool.running);
    int wanted = threads - 1;
    if (wanted > EG_MAX_WORKERS) wanted = EG_MAX_WORKERS;
    while (atomic_load(&pool.workers) < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, eg_pool_worker, NULL);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        atomic_fetch_add(&pool.workers, 1);
    }
    const int started = atomic_load(&pool.workers) + 1;
    pthread_mutex_unlock(&pool.running);
    return started;
}

void eg_pool_run(int count, eg_pool_task task, void *context) {
    if (count <= 0) return;
    /* Another job is running (another thread's, or this task's caller's): run this one here. */
    if (count == 1 || atomic_load(&pool.workers) == 0 || pthread_mutex_trylock(&pool.running) != 0) {
        for (int i = 0; i < count; i++) task(context, i);
        return;
    }
    /* First mark the next job as not ready, so that a worker still holding the last job's ticket
       (whose tasks are all claimed) can neither claim with it nor mistake the new count for room
       left in the old job; then describe the job; then publish it. All sequentially consistent. */
    const uint64_t job = (atomic_load(&pool.ticket) >> 32) + 1;
    atomic_store(&pool.ticket, job << 32 | EG_NOT_READY);
    atomic_store(&pool.task, task);
    atomic_store(&pool.context, context);
    atomic_store(&pool.count, count);
    atomic_store(&pool.finished, 0);
    atomic_store(&pool.ticket, job << 32);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    eg_pool_drain();
    while (atomic_load(&pool.finished) < count) EG_PAUSE();
    pthread_mutex_unlock(&pool.running);
}
