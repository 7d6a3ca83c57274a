package dev.attn4j.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The thread pool kernels split work over. Thread count: {@code -Dattn4j.threads=N}, or
 * {@link #setThreads(int)}, default the number of available processors.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(Integer.getInteger("attn4j.threads",
            Runtime.getRuntime().availableProcessors()));
    /** How long a {@link SpinTeam} worker keeps polling for the next job before it parks (microseconds). */
    static final long SPIN_NANOS = 1000L * Long.getLong("attn4j.spinMicros", 500);
    private static volatile SpinTeam team = new SpinTeam(pool.getParallelism() - 1);

    private Parallel() {
    }

    /** A body that handles indices [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Sets the number of threads kernels use (1 = run on the calling thread). */
    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        if (n == threads()) return;
        ForkJoinPool old = pool;
        SpinTeam oldTeam = team;
        pool = newPool(n);
        team = new SpinTeam(n - 1);
        old.shutdown();
        oldTeam.shutdown();
    }

    private static ForkJoinPool newPool(int n) {
        if (n < 1) throw new IllegalArgumentException("attn4j.threads must be >= 1, got " + n);
        return new ForkJoinPool(n, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("attn4j-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    /**
     * Runs {@code task.accept(i)} for every i in [0, n), each task whole on one pool thread, the
     * threads claiming the next index as they finish, and returns when all are done. Kernels called
     * inside a task run on that task's thread alone (as {@link #forRange} does within the pool), so
     * independent pieces of work too small to split well each get a thread of their own. With one
     * thread, or from inside the pool, the tasks run in order on the calling thread. The first
     * failure is rethrown once every started task has finished.
     */
    public static void forEachTask(int n, java.util.function.IntConsumer task) {
        ForkJoinPool p = pool;
        int t = p.getParallelism();
        if (n <= 1 || t <= 1 || java.util.concurrent.ForkJoinTask.getPool() == p) {
            for (int i = 0; i < n; i++) task.accept(i);
            return;
        }
        var next = new java.util.concurrent.atomic.AtomicInteger();
        RecursiveAction[] workers = new RecursiveAction[Math.min(t, n)];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new RecursiveAction() {
                @Override
                protected void compute() {
                    try {
                        for (int i; (i = next.getAndIncrement()) < n; ) task.accept(i);
                    } catch (RuntimeException | Error e) {
                        next.set(n);                                            // the others stop claiming
                        throw e;
                    }
                }
            };
        }
        p.invoke(new RecursiveAction() {
            @Override
            protected void compute() {
                // Not invokeAll: after a failure it cancels the other workers and returns while a
                // started one may still be running its task.
                for (int w = 1; w < workers.length; w++) workers[w].fork();
                workers[0].quietlyInvoke();
                for (int w = 1; w < workers.length; w++) workers[w].quietlyJoin();
                for (RecursiveAction w : workers) if (w.isCompletedAbnormally()) w.join();   // rethrows the first failure
            }
        });
    }

    /**
     * Runs {@code body} over [0, n) split into at most {@link #threads()} chunks of at least
     * {@code grain} indices; small ranges run on the calling thread, and so do calls made from
     * inside a chunk (nested calls). The caller runs the first chunk itself while the other threads
     * take the others: one thread fewer to wake, and no hand-off before the work starts. Those
     * threads are a {@link SpinTeam}: after a job they keep polling for the next one for
     * {@code -Dattn4j.spinMicros} (default 500) before they park, so the many short regions of one
     * forward pass (a 16-token BERT pass has about forty) do not each pay a thread wake-up (tens of
     * microseconds on a VM, and a lost time slice on a busy machine). When the team is busy with
     * another caller's job, the range goes to the fork-join pool instead.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int t = threads();
        int chunks = (int) Math.min(t, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || java.util.concurrent.ForkJoinTask.getPool() == pool) {
            body.run(0, n);
            return;
        }
        SpinTeam s = team;
        Thread self = Thread.currentThread();
        if (self instanceof SpinTeam.Worker || s.owner == self) {
            body.run(0, n);                                                     // nested: the others are busy with the outer range
            return;
        }
        if (chunks - 1 <= s.workers.length && s.tryAcquire()) {
            try {
                s.run(n, chunks, body);
            } finally {
                s.release();
            }
            return;
        }
        forRangeOnPool(n, chunks, body);
    }

    /**
     * {@link #forRange} for streaming work whose threads may run at different speeds (a VM's
     * vCPUs, a busy machine): [0, n) cut into about {@link #PIECES_PER_THREAD} pieces per thread of
     * at least {@code grain} indices, handed out in order as the threads ask, so that a thread slowed
     * down takes fewer pieces instead of holding up the call with half of the range. The pieces of
     * one thread need not be adjacent; results must not depend on the split (every piece computes
     * its own indices only).
     */
    public static void forPieces(int n, int grain, RangeBody body) {
        int t = threads();
        int pieces = (int) Math.min((long) t * PIECES_PER_THREAD, Math.max(1, n / Math.max(1, grain)));
        if (t <= 1 || pieces <= t) {
            forRange(n, grain, body);
            return;
        }
        int size = (n + pieces - 1) / pieces;
        var next = new java.util.concurrent.atomic.AtomicInteger();
        forRange(t, 1, (a, b) -> {
            try {
                for (int from; (from = next.getAndAdd(size)) < n; ) body.run(from, Math.min(n, from + size));
            } catch (RuntimeException | Error e) {
                next.set(n);                                                    // the others stop claiming
                throw e;
            }
        });
    }

    /** Pieces per thread that {@link #forPieces} cuts a range into (package-private and mutable for benchmarks). */
    static volatile int PIECES_PER_THREAD = 8;

    /** {@link #forRange} on the fork-join pool (the team is busy, or the pool is another caller's). */
    private static void forRangeOnPool(int n, int chunks, RangeBody body) {
        ForkJoinPool p = pool;
        RecursiveAction[] parts = new RecursiveAction[chunks];
        for (int c = 0; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks), to = (int) ((long) n * (c + 1) / chunks);
            parts[c] = new RecursiveAction() {
                @Override
                protected void compute() {
                    body.run(from, to);
                }
            };
        }
        if (java.util.concurrent.ForkJoinTask.inForkJoinPool()) {
            // A worker of another pool: hand the whole range to ours (invokeAll runs part 0 there).
            p.invoke(new RecursiveAction() {
                @Override
                protected void compute() {
                    invokeAll(parts);
                }
            });
            return;
        }
        for (int c = 1; c < chunks; c++) p.execute(parts[c]);
        Throwable failure = null;
        try {
            body.run(0, (int) ((long) n / chunks));                         // = parts[0]'s range
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (int c = 1; c < chunks; c++) {
            try {
                parts[c].join();
            } catch (RuntimeException | Error e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        rethrow(failure);
    }

    private static void rethrow(Throwable failure) {
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
        if (failure != null) throw new IllegalStateException(failure);
    }

    /**
     * Daemon threads that run the chunks of one {@link #forRange} at a time (one caller holds the
     * team), each polling for its next chunk for {@link #SPIN_NANOS} after the last before it
     * parks. Hand-off: the caller writes a worker's chunk, then its sequence number (volatile); a
     * worker about to park publishes {@code parked} (volatile) and reads the sequence once more, and
     * the caller reads {@code parked} after posting: one of the two sees the other (volatile
     * accesses are sequentially consistent), so a chunk is never left with its worker asleep.
     */
    static final class SpinTeam {
        final Worker[] workers;
        private final java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
        private final java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        /** The thread holding the team (its nested calls run inline). */
        volatile Thread owner;
        private long sequence;
        /** The CPUs the workers may use, when a woken worker steps off the caller's CPU; else null. */
        final int[] allowedCpus;

        SpinTeam(int size) {
            // With -Dattn4j.pinThreads=true (see CpuAffinity) and a CPU for the caller and each
            // worker: a worker woken from park runs its first job off the caller's CPU
            this(size, size > 0 && CpuAffinity.available() ? CpuAffinity.allowedCpus() : new int[0]);
        }

        /** A team whose woken workers step off the caller's CPU when {@code cpus} has one for the caller and each. */
        SpinTeam(int size, int[] cpus) {
            workers = new Worker[Math.max(0, size)];
            allowedCpus = cpus.length > workers.length ? cpus : null;
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this, i + 1);
                workers[i].start();
            }
        }

        boolean tryAcquire() {
            if (!busy.compareAndSet(false, true)) return false;
            owner = Thread.currentThread();
            return true;
        }

        void release() {
            owner = null;
            busy.set(false);
        }

        /**
         * Chunk 0 on the caller, chunks 1 .. chunks - 1 offered to workers 0 .. chunks - 2; the
         * caller, done with its own chunk, takes back any chunk whose worker has not claimed it yet
         * (a parked worker can take long to wake on a VM). Returns when all are done.
         */
        void run(int n, int chunks, RangeBody body) {
            long seq = ++sequence;
            failure.set(null);
            pending.set(chunks - 1);
            for (int c = 1; c < chunks; c++) {
                Worker w = workers[c - 1];
                w.body = body;
                w.from = (int) ((long) n * c / chunks);
                w.to = (int) ((long) n * (c + 1) / chunks);
                w.posted = seq;
                if (w.parked) {
                    if (allowedCpus != null) w.callerCpu = CpuAffinity.currentCpu();
                    java.util.concurrent.locks.LockSupport.unpark(w);
                }
            }
            Throwable mine = null;
            try {
                body.run(0, (int) ((long) n / chunks));
            } catch (RuntimeException | Error e) {
                mine = e;
            }
            for (int c = 1; c < chunks && mine == null; c++) {
                Worker w = workers[c - 1];
                if (!w.claim(seq)) continue;
                try {
                    body.run(w.from, w.to);
                } catch (RuntimeException | Error e) {
                    mine = e;
                } finally {
                    pending.decrementAndGet();
                }
            }
            long spinUntil = System.nanoTime() + 50_000;
            while (pending.get() > 0) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else Thread.yield();                                            // a busy machine: let the workers run
            }
            Throwable theirs = failure.get();
            if (mine != null && theirs != null) mine.addSuppressed(theirs);
            rethrow(mine != null ? mine : theirs);
        }

        /** Stops the workers once no job is running (they finish the current one first). */
        void shutdown() {
            while (!busy.compareAndSet(false, true)) Thread.onSpinWait();
            for (Worker w : workers) {
                w.stopped = true;
                java.util.concurrent.locks.LockSupport.unpark(w);
            }
        }

        static final class Worker extends Thread {
            private final SpinTeam team;
            volatile long posted;
            volatile boolean parked;
            volatile boolean stopped;
            /** The newest job whose chunk someone (this worker or the caller) has taken. */
            private final java.util.concurrent.atomic.AtomicLong claimed = new java.util.concurrent.atomic.AtomicLong();
            RangeBody body;
            int from, to;

            /** The CPU of the caller that unparked this worker (when the team steps off it), or -1. */
            volatile int callerCpu = -1;

            Worker(SpinTeam team, int index) {
                super("attn4j-spin-" + index);
                this.team = team;
                setDaemon(true);
            }

            /**
             * After a wake-up, when this worker runs on the CPU of the caller that woke it (Linux
             * often wakes a thread there): lets it run on the other allowed CPUs only, which moves it,
             * and returns true; the caller restores the full set after the job. For one job only:
             * with the worker pinned for good, a decode step (whose worker hardly ever parks) ran 10%
             * slower.
             */
            private boolean stepOffCallerCpu() {
                int[] cpus = team.allowedCpus;
                int caller = callerCpu;
                callerCpu = -1;
                if (cpus == null || caller < 0 || CpuAffinity.currentCpu() != caller) return false;
                return CpuAffinity.setCurrentThread(CpuAffinity.without(cpus, caller));
            }

            /** Takes job {@code seq}'s chunk unless it was taken (claims only move forward). */
            boolean claim(long seq) {
                for (long c; (c = claimed.get()) < seq; ) if (claimed.compareAndSet(c, seq)) return true;
                return false;
            }

            @Override
            public void run() {
                long seen = 0;
                long spinUntil = System.nanoTime() + SPIN_NANOS;
                boolean woke = false;
                while (!stopped) {
                    long p = posted;
                    if (p != seen) {
                        seen = p;
                        boolean aside = woke && stepOffCallerCpu();
                        woke = false;
                        if (!claim(p)) {                                        // the caller took it back
                            if (aside) CpuAffinity.setCurrentThread(team.allowedCpus);
                            continue;
                        }
                        try {
                            body.run(from, to);
                        } catch (Throwable e) {
                            team.failure.compareAndSet(null, e);
                        } finally {
                            body = null;
                            team.pending.decrementAndGet();
                        }
                        if (aside) CpuAffinity.setCurrentThread(team.allowedCpus);
                        spinUntil = System.nanoTime() + SPIN_NANOS;
                    } else if (System.nanoTime() < spinUntil) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (posted == seen && !stopped) java.util.concurrent.locks.LockSupport.park(this);
                        parked = false;
                        woke = true;
                        spinUntil = System.nanoTime() + SPIN_NANOS;
                    }
                }
            }
        }
    }
}
