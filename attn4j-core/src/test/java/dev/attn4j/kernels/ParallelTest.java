package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Parallel#forRange}: every index once, the caller taking part, failures reaching the caller.
 * {@link Parallel#forEachTask}: every task once, whole on one pool thread, its kernels inline there.
 */
class ParallelTest {
    final int threadsBefore = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void coversEveryIndexOnceAndTheCallerRunsAChunk() {
        Parallel.setThreads(3);
        for (int n : new int[] {0, 1, 2, 3, 7, 100, 1001}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
            Set<Thread> ran = ConcurrentHashMap.newKeySet();
            Parallel.forRange(n, 1, (from, to) -> {
                ran.add(Thread.currentThread());
                for (int i = from; i < to; i++) hits.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("n=%d index %d", n, i).isEqualTo(1);
            if (n > 0) assertThat(ran).as("n=%d", n).contains(Thread.currentThread());
        }
    }

    @Test
    void manyShortRegionsBackToBackAndAfterTheWorkersParked() throws Exception {
        Parallel.setThreads(3);
        long sum = 0;
        for (int round = 0; round < 20_000; round++) {
            var total = new java.util.concurrent.atomic.AtomicLong();
            Parallel.forRange(6, 1, (from, to) -> {
                for (int i = from; i < to; i++) total.addAndGet(i + 1);
            });
            assertThat(total.get()).as("round %d", round).isEqualTo(21);
            sum += total.get();
            if (round % 5000 == 0) Thread.sleep(3);                                 // longer than the spin: workers park
        }
        assertThat(sum).isEqualTo(21L * 20_000);
    }

    @Test
    void concurrentCallersAllGetTheirRangesDone() throws Exception {
        Parallel.setThreads(2);
        int callers = 4, rounds = 2_000;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(callers);
        try {
            List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
            for (int c = 0; c < callers; c++) {
                results.add(pool.submit(() -> {
                    for (int r = 0; r < rounds; r++) {
                        AtomicIntegerArray hits = new AtomicIntegerArray(33);
                        Parallel.forRange(33, 1, (from, to) -> {
                            for (int i = from; i < to; i++) hits.incrementAndGet(i);
                        });
                        for (int i = 0; i < 33; i++) if (hits.get(i) != 1) return false;
                    }
                    return true;
                }));
            }
            for (var f : results) assertThat(f.get(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void forPiecesCoversEveryIndexOnceInPiecesOfAtLeastTheGrain() {
        for (int threads : new int[] {1, 2, 3}) {
            Parallel.setThreads(threads);
            for (int n : new int[] {0, 1, 5, 64, 100, 1001, 65_536}) {
                for (int grain : new int[] {1, 7, 64}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
                    List<int[]> pieces = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                    Parallel.forPieces(n, grain, (from, to) -> {
                        pieces.add(new int[] {from, to});
                        for (int i = from; i < to; i++) hits.incrementAndGet(i);
                    });
                    String what = "threads=" + threads + " n=" + n + " grain=" + grain;
                    for (int i = 0; i < n; i++) assertThat(hits.get(i)).as(what + " index %d", i).isEqualTo(1);
                    for (int[] p : pieces) {
                        if (p[1] < n) assertThat(p[1] - p[0]).as(what + " piece " + p[0]).isGreaterThanOrEqualTo(Math.min(grain, n));
                    }
                    if (threads > 1 && n >= 64 * grain) {                     // cut finer than one piece per thread
                        assertThat(pieces.size()).as(what).isGreaterThan(threads);
                    }
                }
            }
        }
        Parallel.setThreads(2);
        assertThatThrownBy(() -> Parallel.forPieces(1000, 1, (from, to) -> {
            if (from >= 500) throw new IllegalStateException("piece " + from);
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("piece");
    }

    @Test
    void nestedCallsRunInline() {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(64);
        Parallel.forRange(8, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int outer = i;
                Parallel.forRange(8, 1, (f2, t2) -> {
                    for (int j = f2; j < t2; j++) hits.incrementAndGet(outer * 8 + j);
                });
            }
        });
        for (int i = 0; i < 64; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void fromAnotherForkJoinPool() throws Exception {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(50);
        ForkJoinPool other = new ForkJoinPool(2);
        try {
            other.submit(() -> Parallel.forRange(50, 1, (from, to) -> {
                for (int i = from; i < to; i++) hits.incrementAndGet(i);
            })).get();
        } finally {
            other.shutdown();
        }
        for (int i = 0; i < 50; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void failuresInTheCallersChunkOrAPoolChunkReachTheCaller() {
        Parallel.setThreads(2);
        assertThatThrownBy(() -> Parallel.forRange(10, 1, (from, to) -> {
            if (from == 0) throw new IllegalStateException("caller chunk " + from);
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("caller chunk 0");
        assertThatThrownBy(() -> Parallel.forRange(10, 1, (from, to) -> {
            if (from > 0) throw new IllegalArgumentException("pool chunk " + from);
        })).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pool chunk 5");
        // The pool is still usable afterwards.
        AtomicIntegerArray hits = new AtomicIntegerArray(10);
        Parallel.forRange(10, 1, (from, to) -> {
            for (int i = from; i < to; i++) hits.incrementAndGet(i);
        });
        for (int i = 0; i < 10; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void forEachTaskRunsEachTaskOnceOnOnePoolThreadWithItsKernelsInline() {
        Parallel.setThreads(2);
        for (int n : new int[] {0, 1, 2, 3, 17}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
            Set<Thread> ran = ConcurrentHashMap.newKeySet();
            Parallel.forEachTask(n, task -> {
                Thread mine = Thread.currentThread();
                ran.add(mine);
                hits.incrementAndGet(task);
                int tasks = n;
                Parallel.forRange(64, 1, (from, to) -> {                        // a kernel inside the task
                    if (tasks == 1) return;                                     // on the caller: split as usual
                    assertThat(Thread.currentThread()).isSameAs(mine);
                    assertThat(from == 0 && to == 64).as("the whole range in one piece").isTrue();
                });
            });
            for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("n=%d task %d", n, i).isEqualTo(1);
            if (n > 1) assertThat(ran).as("n=%d: pool threads only", n).doesNotContain(Thread.currentThread());
            if (n == 1) assertThat(ran).containsExactly(Thread.currentThread());  // one task: on the caller, kernels split
        }
        Parallel.setThreads(1);
        Set<Thread> ran = ConcurrentHashMap.newKeySet();
        Parallel.forEachTask(5, task -> ran.add(Thread.currentThread()));
        assertThat(ran).containsExactly(Thread.currentThread());
    }

    @Test
    void forEachTaskPassesTheFirstFailureOnAndStopsHandingOutTasks() {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(1000);
        assertThatThrownBy(() -> Parallel.forEachTask(1000, task -> {
            hits.incrementAndGet(task);
            if (task == 3) throw new IllegalStateException("task " + task);
            try {
                Thread.sleep(1);                                                // the others take a while: 0.5 s if none stopped
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        })).isInstanceOf(IllegalStateException.class).hasMessageContaining("task 3");
        int started = 0;
        for (int i = 0; i < 1000; i++) started += hits.get(i);
        assertThat(started).as("tasks started after the failure").isLessThan(1000);
        // a failure reaches the caller only once a task running beside it has finished
        for (int rep = 0; rep < 6; rep++) {
            var slowStarted = new java.util.concurrent.CountDownLatch(1);
            var slowFinished = new java.util.concurrent.atomic.AtomicBoolean();
            assertThatThrownBy(() -> Parallel.forEachTask(2, task -> {
                try {
                    if (task == 1) {
                        slowStarted.countDown();
                        Thread.sleep(50);
                        slowFinished.set(true);
                    } else if (slowStarted.await(2, java.util.concurrent.TimeUnit.SECONDS)) {
                        throw new IllegalStateException("fails beside a running task");
                    }
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            })).hasMessageContaining("fails beside a running task");
            assertThat(slowFinished.get()).as("rep %d: the task beside the failure had finished", rep).isTrue();
        }
        AtomicIntegerArray again = new AtomicIntegerArray(10);                  // the pool is still usable
        Parallel.forEachTask(10, again::incrementAndGet);
        for (int i = 0; i < 10; i++) assertThat(again.get(i)).isEqualTo(1);
    }

    @Test
    void aChunkIsTakenOnceByTheWorkerOrTheCallerAndNeverForAnOlderJob() {
        var team = new Parallel.SpinTeam(0);
        var w = new Parallel.SpinTeam.Worker(team, 1);                           // not started: claims only
        assertThat(w.claim(1)).isTrue();
        assertThat(w.claim(1)).as("the second claimant of job 1").isFalse();
        assertThat(w.claim(3)).isTrue();
        assertThat(w.claim(2)).as("a stale claim for an older job").isFalse();
        assertThat(w.claim(3)).isFalse();
    }
}
