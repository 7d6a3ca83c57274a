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
    void aWokenWorkerStepsAsideForOneJobAndGetsItsWholeMaskBack() throws Exception {
        assumeTrue(CpuAffinity.supported(), "Linux with native access");
        int[] allowed = CpuAffinity.allowedCpus();
        assumeTrue(allowed.length >= 2, "two CPUs");
        var team = new Parallel.SpinTeam(1, allowed);
        try {
            Parallel.SpinTeam.Worker w = team.workers[0];
            for (int job = 0; job < 20; job++) {
                while (!w.parked) Thread.sleep(1);                              // after its spin: parked
                int[] sums = new int[2];
                assertThat(team.tryAcquire()).isTrue();
                try {
                    team.run(2, 2, (from, to) -> {
                        for (int i = from; i < to; i++) sums[i] = i + 1;
                    });
                } finally {
                    team.release();
                }
                assertThat(sums).containsExactly(1, 2);
            }
            while (!w.parked) Thread.sleep(1);
            assertThat(workerMask(w.getName())).as("the worker's CPUs after its jobs").isEqualTo(cpuList(allowed));
        } finally {
            team.shutdown();
        }
    }

    /** Cpus_allowed_list of the thread named {@code name} (from /proc/self/task). */
    private static String workerMask(String name) throws Exception {
        try (var tasks = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("/proc/self/task"))) {
            for (var t : tasks) {
                if (!java.nio.file.Files.readString(t.resolve("comm")).trim().equals(name)) continue;
                for (String line : java.nio.file.Files.readAllLines(t.resolve("status"))) {
                    if (line.startsWith("Cpus_allowed_list:")) return line.substring(line.indexOf(':') + 1).trim();
                }
            }
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
