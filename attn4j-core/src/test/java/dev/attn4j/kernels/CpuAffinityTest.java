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
        var gettid = java.lang.foreign.Linker.nativeLinker().defaultLookup().find("gettid");
        assumeTrue(gettid.isPresent(), "gettid in libc");
        var tidHandle = java.lang.foreign.Linker.nativeLinker().downcallHandle(gettid.get(),
                java.lang.foreign.FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT));
        int home = allowed[0];
        AtomicReference<String> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        // The caller pinned to one CPU creates the team, so the worker starts with that CPU alone as
        // well: woken, it is on the caller's CPU, so it runs its job on the other CPUs, and once parked
        // again it has the whole mask (read from /proc by its thread id): without the step aside the
        // job would run on [home], without the way back the parked worker would keep the others.
        Thread caller = new Thread(() -> {
            try {
                assertThat(CpuAffinity.setCurrentThread(new int[] {home})).isTrue();
                var team = new Parallel.SpinTeam(1, allowed);
                try {
                    Parallel.SpinTeam.Worker w = team.workers[0];
                    while (!w.parked) Thread.sleep(1);                          // after its first spin: parked
                    String[] seen = new String[3];
                    var started = new java.util.concurrent.atomic.AtomicBoolean();
                    assertThat(team.tryAcquire()).isTrue();
                    try {
                        team.run(2, 2, (from, to) -> {
                            if (from == 0) {                                    // the caller: leave chunk 1 to the worker
                                long end = System.nanoTime() + 10_000_000_000L;
                                while (!started.get() && System.nanoTime() < end) Thread.onSpinWait();
                                return;
                            }
                            started.set(true);
                            seen[0] = Thread.currentThread() == w ? "worker" : "caller";
                            seen[1] = Arrays.toString(CpuAffinity.allowedCpus());
                            try {
                                seen[2] = String.valueOf((int) tidHandle.invokeExact());
                            } catch (Throwable e) {
                                throw new IllegalStateException(e);
                            }
                        });
                    } finally {
                        team.release();
                    }
                    while (!w.parked) Thread.sleep(1);
                    result.set(seen[0] + " " + seen[1] + " then " + taskCpus(seen[2]));
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
        assertThat(result.get()).as("who ran the woken job, on which CPUs, and the parked worker's CPUs after it")
                .isEqualTo("worker " + Arrays.toString(CpuAffinity.without(allowed, home)) + " then " + cpuList(allowed));
    }

    /** Cpus_allowed_list of this process's thread {@code tid}. */
    private static String taskCpus(String tid) throws Exception {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/task/" + tid + "/status"))) {
            if (line.startsWith("Cpus_allowed_list:")) return line.substring(line.indexOf(':') + 1).trim();
        }
        return "";
    }

    /** 0,1,2,5 as the kernel lists it: 0-2,5. */
    private static String cpuList(int[] cpus) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cpus.length; ) {
            int j = i;
            while (j + 1 < cpus.length && cpus[j + 1] == cpus[j] + 1) j++;
            if (sb.length() > 0) sb.append(',');
            sb.append(cpus[i]);
            if (j > i) sb.append('-').append(cpus[j]);
            i = j + 1;
        }
        return sb.toString();
    }

    @Test
    void withoutDropsOneCpuAndBadMasksAreRefused() {
        assertThat(CpuAffinity.without(new int[] {0, 1, 3}, 1)).containsExactly(0, 3);
        assertThat(CpuAffinity.without(new int[] {0, 1}, 5)).containsExactly(0, 1);
        assertThat(CpuAffinity.setCurrentThread(new int[0])).isFalse();
        assertThat(CpuAffinity.setCurrentThread(new int[] {-1})).isFalse();
    }
}
