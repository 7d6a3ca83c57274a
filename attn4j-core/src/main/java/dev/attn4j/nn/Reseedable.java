package dev.attn4j.nn;

/**
 * A module that draws random numbers in training (dropout masks). {@link #reseed} makes its next
 * draws a function of {@code seed} alone, so a trainer that reseeds every such module before each
 * step from (run seed, step) draws the same masks in a resumed run as in an uninterrupted one.
 */
public interface Reseedable {
    /** Replaces the module's generator with one seeded by {@code seed}. */
    void reseed(long seed);

    /**
     * Reseeds every {@link Reseedable} module of {@code root} (in {@link Module#namedModules()}
     * order, the i-th from {@code seed} and i), e.g. with seed = f(run seed, step).
     */
    static void reseedAll(Module root, long seed) {
        long i = 0;
        for (Module m : root.namedModules().values()) {
            if (m instanceof Reseedable r) r.reseed(seed + 0x9E3779B97F4A7C15L * ++i);
        }
    }
}
