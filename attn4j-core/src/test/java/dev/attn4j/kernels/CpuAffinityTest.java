package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuAffinity} where its calls are supported (Linux, native access): masks set and read back,
 * and a {@link Parallel} team whose woken worker steps off the caller's CPU for one job.
 */
class CpuAffinityTest {

    @Test
    void theAllowedCpusAreTheProcessMaskAndAThreadMovesWhereItIsSent() throws Exception {
        assumeTrue(CpuAffinity.supported(), "Linux with native access");
        int[] allowed = CpuAffinity.allowedCpus();
        assertThat(allowed).isNotEmpty().isSorted();
        assertThat(allowed.length).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors() + 64);
        assertThat(allowed).contains(CpuAffinity.currentCpu());
        int target = allowed[allowed.length - 1];
        AtomicReference<String> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            boolean set = CpuAffinity.setCurrentThread(new int[] {target});
            Thread.yield();
            int[] mine = CpuAffinity.allowedCpus();
            int cpu = CpuAffinity.currentCpu();
            boolean restored = CpuAffinity.setCurrentThread(allowed);
            seen.set(set + " " + Arrays.toString(mine) + " " + cpu + " " + restored + " " + Arrays.toString(CpuAffinity.allowedCpus()));
        });
        t.start();
        t.join();
        assertThat(seen.get()).isEqualTo("true [" + target + "] " + target + " true " + Arrays.toString(allowed));
        assertThat(CpuAffinity.allowedCpus()).as("the test thread's own mask").containsExactly(allowed);
    }

    @Test
    void aWokenWorkerOnTheCallersCpuStepsAsideForItsJobAndGetsItsWholeMaskBack() throws Exception {
        assumeTrue(CpuAffinity.supported(), "Linux with native access");
        int[] allowed = CpuAffinity.allowedCpus();
        assumeTrue(allowed.length >= 2, "two CPUs");
        int home = allowed[0];
        AtomicReference<String> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        // The caller pinned to one CPU creates the team, so the worker starts with that CPU alone as
        // well: woken, it is on the caller's CPU, and only stepping aside (to the others) and back (to
        // all of them) leaves it with the whole mask; without the first it keeps [home], without the
        // second it keeps the others. The worker reads its own mask in a last job, posted while it
        // still spins (no wake-up, so no step aside there).
        Thread caller = new Thread(() -> {
            try {
                assertThat(CpuAffinity.setCurrentThread(new int[] {home})).isTrue();
                var team = new Parallel.SpinTeam(1, allowed);
                try {
                    Parallel.SpinTeam.Worker w = team.workers[0];
                    String[] seen = new String[2];
                    for (int job = 0; job < 4; job++) {
                        boolean last = job == 3;
                        if (!last) while (!w.parked) Thread.sleep(1);           // after its spin: parked
                        int[] values = new int[2];
                        assertThat(team.tryAcquire()).isTrue();
                        try {
                            team.run(2, 2, (from, to) -> {
                                for (int i = from; i < to; i++) values[i] = i + 1;
                                if (!last) return;
                                if (from == 0) {
                                    try {
                                        Thread.sleep(20);                         // the spinning worker claims its chunk
                                    } catch (InterruptedException e) {
                                        throw new IllegalStateException(e);
                                    }
                                } else {
                                    seen[0] = Thread.currentThread() == w ? "worker" : "caller";
                                    seen[1] = Arrays.toString(CpuAffinity.allowedCpus());
                                }
                            });
                        } finally {
                            team.release();
                        }
                        assertThat(values).containsExactly(1, 2);
                    }
                    result.set(seen[0] + " " + seen[1]);
                } finally {
                    team.shutdown();
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        caller.start();
        caller.join();
        if (failure.get() != null) throw new AssertionError(failure.get());
        assertThat(result.get()).as("who ran the last job's second chunk, with which CPUs")
                .isEqualTo("worker " + Arrays.toString(allowed));
    }

    @Test
    void withoutDropsOneCpuAndBadMasksAreRefused() {
        assertThat(CpuAffinity.without(new int[] {0, 1, 3}, 1)).containsExactly(0, 3);
        assertThat(CpuAffinity.without(new int[] {0, 1}, 5)).containsExactly(0, 1);
        assertThat(CpuAffinity.setCurrentThread(new int[0])).isFalse();
        assertThat(CpuAffinity.setCurrentThread(new int[] {-1})).isFalse();
    }
}
