package dev.attn4j.nn;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;

/**
 * The dtype new module parameters and buffers get, per thread, like torch.set_default_dtype:
 * F32 unless changed. {@link Module#parameter} and {@link Module#buffer} convert their initial
 * values to it, so {@code try (var s = DefaultDType.use(DType.F64)) { new Linear(...) }} builds
 * a float64 module (what gradient checks of whole modules need). Scopes nest; closing one
 * restores the dtype before it.
 */
public final class DefaultDType {
    private static final ThreadLocal<DType[]> CURRENT = ThreadLocal.withInitial(() -> new DType[] {DType.F32});

    private DefaultDType() {
    }

    /** The dtype modules created on this thread get now. */
    public static DType get() {
        return CURRENT.get()[0];
    }

    /** Makes {@code dtype} the default until the returned scope is closed. */
    public static Scope use(DType dtype) {
        if (dtype == null) throw new IllegalArgumentException("default dtype must not be null");
        DType[] state = CURRENT.get();
        Scope s = new Scope(state, state[0]);
        state[0] = dtype;
        return s;
    }

    /** {@code value} itself when it already has the default dtype, else a converted copy. */
    static NDArray convert(NDArray value) {
        DType t = get();
        return value.dtype() == t ? value : value.to(t);
    }

    /** A default-dtype scope; {@link #close()} restores the previous dtype (idempotent). */
    public static final class Scope implements AutoCloseable {
        private final DType[] state;
        private final DType previous;
        private boolean closed;

        private Scope(DType[] state, DType previous) {
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
