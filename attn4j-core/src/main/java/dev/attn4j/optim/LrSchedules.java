package dev.attn4j.optim;

/**
 * Learning-rate schedules as functions of the step number (1 = the first update). Apply one
 * with {@code optimizer.setLr(schedule.lr(step))} before each step.
 */
public final class LrSchedules {
    private LrSchedules() {
    }

    /** A learning rate for each step, counted from 1. */
    @FunctionalInterface
    public interface Schedule {
        double lr(long step);
    }

    public static Schedule constant(double lr) {
        return step -> lr;
    }

    /**
     * Linear warm-up from 0 to {@code peak} over {@code warmup} steps, then linear decay to 0 at
     * {@code total} (Hugging Face's get_linear_schedule_with_warmup).
     */
    public static Schedule linearWarmupLinearDecay(double peak, long warmup, long total) {
        check(warmup, total);
        return step -> {
            if (step < warmup) return peak * step / Math.max(1, warmup);
            return peak * Math.max(0.0, (double) (total - step) / Math.max(1, total - warmup));
        };
    }

    /**
     * Linear warm-up to {@code peak}, then half a cosine down to {@code minLr} at {@code total}
     * (get_cosine_schedule_with_warmup with a floor).
     */
    public static Schedule linearWarmupCosineDecay(double peak, long warmup, long total, double minLr) {
        check(warmup, total);
        return step -> {
            if (step < warmup) return peak * step / Math.max(1, warmup);
            double progress = Math.min(1.0, (double) (step - warmup) / Math.max(1, total - warmup));
            return minLr + (peak - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }

    /**
     * The inverse-square-root schedule of "Attention Is All You Need" (section 5.3):
     * factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5).
     */
    public static Schedule noam(int dModel, long warmup, double factor) {
        if (dModel <= 0 || warmup <= 0) throw new IllegalArgumentException("noam needs d_model > 0 and warmup > 0");
        return step -> {
            long s = Math.max(1, step);
            return factor * Math.pow(dModel, -0.5) * Math.min(Math.pow(s, -0.5), s * Math.pow(warmup, -1.5));
        };
    }

    private static void check(long warmup, long total) {
        if (warmup < 0 || total <= 0 || warmup > total) {
            throw new IllegalArgumentException("schedule needs 0 <= warmup <= total and total > 0, got warmup "
                    + warmup + ", total " + total);
        }
    }
}
