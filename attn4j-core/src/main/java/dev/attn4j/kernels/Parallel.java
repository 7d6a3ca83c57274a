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
     * {@code grain} indices; small ranges run on the calling thread.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int t = threads();
        int chunks = (int) Math.min(t, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || java.util.concurrent.ForkJoinTask.getPool() == pool) {
            body.run(0, n);
            return;
        }
        ForkJoinPool p = pool;
        p.invoke(new RecursiveAction() {
            @Override
            protected void compute() {
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
                invokeAll(parts);
            }
        });
    }
}
