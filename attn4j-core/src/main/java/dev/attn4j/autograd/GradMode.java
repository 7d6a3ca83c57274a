package dev.attn4j.autograd;

/**
 * Whether operations on {@link Tensor}s record a graph for backward, per thread. Use
 * {@code try (var _ = GradMode.noGrad()) { ... }} to run without recording (inference, optimizer
 * updates); scopes nest, and closing one restores the state before it.
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {
    }

    /** Whether ops on this thread record gradients now. */
    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables recording until the returned scope is closed. */
    public static NoGrad noGrad() {
        return set(false);
    }

    /** Enables recording (e.g. inside a {@link #noGrad()} scope) until the returned scope is closed. */
    public static NoGrad enableGrad() {
        return set(true);
    }

    private static NoGrad set(boolean enabled) {
        boolean[] state = ENABLED.get();
        NoGrad scope = new NoGrad(state, state[0]);
        state[0] = enabled;
        return scope;
    }

    /** A grad-mode scope; {@link #close()} restores the previous mode (idempotent). */
    public static final class NoGrad implements AutoCloseable {
        private final boolean[] state;
        private final boolean previous;
        private boolean closed;

        private NoGrad(boolean[] state, boolean previous) {
            this.state = state;
            this.previous = previous;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            state[0] = previous;
        }
    }
}
