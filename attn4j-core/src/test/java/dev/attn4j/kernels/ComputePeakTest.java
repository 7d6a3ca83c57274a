package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attn4j.kernels.simd.SimdKernels;
import org.junit.jupiter.api.Test;

/** {@link Kernels#fmaChains} computes its chains (scalar and SIMD alike); {@link ComputePeak} reports a rate from them. */
class ComputePeakTest {

    /** One chain after {@code steps} steps, as the probe computes it. */
    private static float chain(long steps) {
        float a = 1f;
        for (long i = 0; i < steps; i++) a = Math.fma(a, Kernels.FMA_PROBE_M, Kernels.FMA_PROBE_C);
        return a;
    }

    @Test
    void theScalarProbeSumsTwelveChainsOfTheGivenSteps() {
        for (long steps : new long[] {0, 1, 2, 17, 5000}) {
            float a = chain(steps);
            float want = ((a + a) + (a + a)) + ((a + a) + (a + a)) + ((a + a) + (a + a));
            assertThat(Kernels.scalar().fmaChains(steps)).as("%d steps", steps).isEqualTo(want);
        }
        assertThat(Kernels.scalar().fmaLanes()).isEqualTo(1);
    }

    @Test
    void theSimdProbeRunsEveryLaneOfEveryChain() {
        Kernels simd = new SimdKernels();
        int lanes = simd.fmaLanes();
        assertThat(lanes).isGreaterThanOrEqualTo(1);
        for (long steps : new long[] {0, 1, 3, 5000}) {
            double want = (double) Kernels.FMA_CHAINS * lanes * chain(steps);
            assertThat((double) simd.fmaChains(steps)).as("%d steps", steps).isCloseTo(want, within(want * 1e-6));
        }
    }

    @Test
    void negativeStepsAreRefused() {
        assertThatThrownBy(() -> Kernels.scalar().fmaChains(-1)).hasMessageContaining("iterations must be >= 0, got -1");
        assertThatThrownBy(() -> new SimdKernels().fmaChains(-1)).hasMessageContaining("iterations must be >= 0, got -1");
    }

    @Test
    void measureReportsAPositiveRateForTheThreadsThatRan() {
        ComputePeak.Result r = ComputePeak.measure(2, 3, 5);
        assertThat(r.medianGflops()).isPositive().isFinite();
        assertThat(r.bestGflops()).isGreaterThanOrEqualTo(r.medianGflops());
        assertThat(r.lanes()).isEqualTo(Kernels.get().fmaLanes());
        assertThat(r.threads()).isEqualTo(2);
        assertThatThrownBy(() -> ComputePeak.measure(0, 3, 5)).hasMessageContaining("got 0, 3, 5");
    }
}
