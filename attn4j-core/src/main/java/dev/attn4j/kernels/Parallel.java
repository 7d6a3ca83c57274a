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
