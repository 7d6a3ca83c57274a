package dev.attn4j.kernels;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;

/**
 * CPU affinity for the kernel threads of {@link Parallel} on Linux: libc's {@code sched_getcpu},
 * {@code sched_getaffinity} and {@code sched_setaffinity} called through {@code java.lang.foreign}
 * (no native code of our own). Off unless {@code -Dattn4j.pinThreads=true} (the {@code attn4j}
 * launcher sets it); it also needs native access for this module ({@code --enable-native-access},
 * which the launcher passes). Without them, on any other system, or when a call fails, nothing
 * changes.
 *
 * <p>Why: on a two-vCPU VM a kernel thread woken after an idle spell was often placed on the
 * caller's vCPU (Linux's wake-up affinity), so the two threads of a forward pass time-shared one
 * CPU: a 15-token all-MiniLM-L6-v2 forward after a 100 ms pause took 6.7-7.8 ms on two threads
 * (5-6 ms on one), 4.5-5.2 ms with the woken worker stepping off the caller's CPU (ONNX Runtime about
 * 4.4 ms). Pinning the thread for good (3.9-4.2 ms there) made a decode step 10% slower (71-72
 * against 64-66 ms), so a woken worker only steps off the caller's CPU for its first job (see
 * {@link Parallel}).
 */
final class CpuAffinity {
    /** Mask bytes handed to the kernel: 1,024 CPUs. */
    private static final int MASK_BYTES = 128;
    private static final MethodHandle GET;
    private static final MethodHandle SET;
    private static final MethodHandle CPU;
    /** Whether {@link Parallel} moves its threads (-Dattn4j.pinThreads=true, and the calls are available). */
    private static final boolean ENABLED;

    static {
        MethodHandle get = null, set = null, cpu = null;
        if (System.getProperty("os.name", "").startsWith("Linux") && CpuAffinity.class.getModule().isNativeAccessEnabled()) {
            try {
                Linker linker = Linker.nativeLinker();
                FunctionDescriptor fd = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS);   // (pid_t, size_t, cpu_set_t *)
                var lookup = linker.defaultLookup();
                var getAddress = lookup.find("sched_getaffinity");
                var setAddress = lookup.find("sched_setaffinity");
                var cpuAddress = lookup.find("sched_getcpu");
                if (getAddress.isPresent() && setAddress.isPresent() && cpuAddress.isPresent()) {
                    get = linker.downcallHandle(getAddress.get(), fd);
                    set = linker.downcallHandle(setAddress.get(), fd);
                    cpu = linker.downcallHandle(cpuAddress.get(), FunctionDescriptor.of(JAVA_INT));
                }
            } catch (RuntimeException | LinkageError e) {
                get = set = cpu = null;                                         // not available: nothing changes
            }
        }
        GET = get;
        SET = get == null ? null : set;
        CPU = get == null ? null : cpu;
        ENABLED = GET != null && Boolean.getBoolean("attn4j.pinThreads");
    }

    private CpuAffinity() {
    }

    /** Whether {@link Parallel} should move its threads: enabled, Linux, native access. */
    static boolean available() {
        return ENABLED;
    }

    /** Whether the calls work here (Linux, native access), enabled or not. */
    static boolean supported() {
        return GET != null;
    }

    /** The CPUs the calling thread may run on, ascending; empty when that is unknown. */
    static int[] allowedCpus() {
        if (GET == null) return new int[0];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES);
            int rc = (int) GET.invokeExact(0, (long) MASK_BYTES, mask);
            if (rc != 0) return new int[0];
            int[] cpus = new int[MASK_BYTES * 8];
            int n = 0;
            for (int cpu = 0; cpu < MASK_BYTES * 8; cpu++) {
                if ((mask.get(JAVA_BYTE, cpu >> 3) & (1 << (cpu & 7))) != 0) cpus[n++] = cpu;
            }
            return Arrays.copyOf(cpus, n);
        } catch (Throwable e) {
            return new int[0];
        }
    }

    /** The CPU the calling thread runs on now, or -1. */
    static int currentCpu() {
        if (CPU == null) return -1;
        try {
            return (int) CPU.invokeExact();
        } catch (Throwable e) {
            return -1;
        }
    }

    /** Lets the calling thread run on {@code cpus} only; false when that is not supported or failed. */
    static boolean setCurrentThread(int[] cpus) {
        if (SET == null || cpus.length == 0) return false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(MASK_BYTES);
            for (int cpu : cpus) {
                if (cpu < 0 || cpu >= MASK_BYTES * 8) return false;
                int i = cpu >> 3;
                mask.set(JAVA_BYTE, i, (byte) (mask.get(JAVA_BYTE, i) | (1 << (cpu & 7))));
            }
            return (int) SET.invokeExact(0, (long) MASK_BYTES, mask) == 0;
        } catch (Throwable e) {
            return false;
        }
    }

    /** {@code cpus} less {@code cpu}. */
    static int[] without(int[] cpus, int cpu) {
        return Arrays.stream(cpus).filter(c -> c != cpu).toArray();
    }
}
