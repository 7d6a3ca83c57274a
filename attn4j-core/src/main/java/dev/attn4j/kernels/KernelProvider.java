package dev.attn4j.kernels;

import java.lang.System.Logger.Level;

/**
 * Chooses the {@link Kernels} implementation once. The SIMD one needs the incubating module
 * {@code jdk.incubator.vector} in the boot layer; without it we log the flag to add and use the
 * scalar reference. {@code -Dattn4j.kernels=scalar} forces the reference.
 */
final class KernelProvider {
    private static final System.Logger LOG = System.getLogger("dev.attn4j.kernels");
    static final String SIMD_CLASS = "dev.attn4j.kernels.simd.SimdKernels";

    private KernelProvider() {
    }

    static Kernels instance() {
        return Holder.INSTANCE;
    }

    private static final class Holder {
        static final Kernels INSTANCE = choose();
    }

    private static Kernels choose() {
        String forced = System.getProperty("attn4j.kernels", "auto");
        if (forced.equals("scalar")) {
            LOG.log(Level.DEBUG, "attn4j.kernels=scalar: using the scalar reference kernels");
            return ScalarKernels.INSTANCE;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LOG.log(Level.WARNING, "Vector API not available, using slow scalar kernels. "
                    + "Start java with --add-modules jdk.incubator.vector for SIMD kernels.");
            return ScalarKernels.INSTANCE;
        }
        try {
            return (Kernels) Class.forName(SIMD_CLASS).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.log(Level.WARNING, "SIMD kernels failed to load (" + e + "), using scalar kernels");
            return ScalarKernels.INSTANCE;
        }
    }
}
