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
        pool = newPool(n);
        old.shutdown();
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
     * {@code grain} indices; small ranges run on the calling thread. From outside the pool the
     * caller runs the first chunk itself while pool threads take the others: one thread fewer to
     * wake (tens of microseconds each on a VM), and no hand-off before the work starts.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int t = threads();
        int chunks = (int) Math.min(t, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || java.util.concurrent.ForkJoinTask.getPool() == pool) {
            body.run(0, n);
            return;
        }
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
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
    }
}
