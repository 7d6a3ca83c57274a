package dev.attn4j.spark;

import dev.attn4j.kernels.Parallel;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes attn4j's kernel pool ({@link Parallel}, one per JVM) for the tasks of an executor, so
 * that Spark's task slots and attn4j's threads do not oversubscribe the cores. With one thread
 * per task (the default) the pool has one thread: each task runs its kernels on its own thread,
 * and an executor with N task slots uses N cores. With {@code k > 1} threads per task the pool
 * has {@code k} times the executor's task slots (executor cores / {@code spark.task.cpus}), shared
 * by its tasks; give Spark fewer slots to match ({@code spark.task.cpus = k}).
 *
 * <p>The pool is only resized between chunks of work: a task computing holds a read lock, the
 * resize waits for the write lock (replacing the pool under a running kernel would fail it).
 */
final class KernelThreads {
    private KernelThreads() {
    }

    private static final ReentrantReadWriteLock LOCK = new ReentrantReadWriteLock();

    /** Runs {@code work} with the kernel pool sized for {@code threadsPerTask} threads per task. */
    static <T> T run(int threadsPerTask, Supplier<T> work) {
        int n = poolSize(threadsPerTask);
        LOCK.readLock().lock();
        try {
            if (Parallel.threads() != n) {
                LOCK.readLock().unlock();
                LOCK.writeLock().lock();
                try {
                    if (Parallel.threads() != n) Parallel.setThreads(n);
                    LOCK.readLock().lock();                                         // downgrade: no one resizes while we compute
                } finally {
                    LOCK.writeLock().unlock();
                }
            }
            return work.get();
        } finally {
            LOCK.readLock().unlock();
        }
    }

    /** Kernel threads for this JVM: 1 for one thread per task, else threadsPerTask times the executor's task slots. */
    static int poolSize(int threadsPerTask) {
        if (threadsPerTask < 1) throw new IllegalArgumentException("threadsPerTask must be >= 1, got " + threadsPerTask);
        if (threadsPerTask == 1) return 1;
        TaskContext tc = TaskContext.get();
        int taskCpus = tc != null ? Math.max(1, tc.cpus()) : 1;
        SparkEnv env = SparkEnv.get();
        return threadsPerTask * Math.max(1, executorCores(env == null ? null : env.conf()) / taskCpus);
    }

    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\s*\\d+)?])?");
    private static final Pattern LOCAL_CLUSTER = Pattern.compile("local-cluster\\[\\s*\\d+\\s*,\\s*(\\d+)\\s*,.*]");

    /** Cores of this executor: spark.executor.cores, else the local master's thread count, else the machine's processors. */
    static int executorCores(SparkConf conf) {
        int machine = Runtime.getRuntime().availableProcessors();
        if (conf == null) return machine;
        if (conf.contains("spark.executor.cores")) return conf.getInt("spark.executor.cores", machine);
        String master = conf.get("spark.master", "");
        Matcher m = LOCAL.matcher(master);
        if (m.matches()) return m.group(1) == null ? 1 : m.group(1).equals("*") ? machine : Integer.parseInt(m.group(1));
        m = LOCAL_CLUSTER.matcher(master);
        if (m.matches()) return Integer.parseInt(m.group(1));
        return machine;
    }
}
