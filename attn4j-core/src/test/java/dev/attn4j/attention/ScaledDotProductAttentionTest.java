package dev.attn4j.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.autograd.GradCheck;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SDPA (both paths) against an independent float64 reference, for every mask kind, plus gradient checks. */
class ScaledDotProductAttentionTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    enum Kind { NONE, ALLOWED, BLOCKED, ADDITIVE, CAUSAL, CAUSAL_BOTTOM_RIGHT, KEY_PADDING, COMBINED }

    /** A mask setting and its independent full additive form [B, H, L, S]. */
    record Case(SdpaOptions options, double[] full) {
    }

    private NDArray rand(DType dt, int... shape) {
        NDArray a = NDArray.uniform(rng, Shape.of(shape), -1, 1);
        return dt == DType.F32 ? a : a.to(DType.F64);
    }

    private NDArray bits(double pOne, int... shape) {
        NDArray a = NDArray.zeros(shape);
        float[] d = a.floatArray();
        for (int i = 0; i < d.length; i++) d[i] = rng.nextDouble() < pOne ? 1 : 0;
        return a;
    }

    Case maskCase(Kind kind, int B, int H, int L, int S) {
        double[] full = new double[B * H * L * S];
        SdpaOptions o = SdpaOptions.defaults();
        switch (kind) {
            case NONE -> { }
            case ALLOWED -> {
                NDArray m = bits(0.7, L, S);
                o = o.mask(AttentionMask.allowed(m));
                fill(full, B, H, L, S, (b, h, i, j) -> m.getDouble(i, j) != 0 ? 0 : Double.NEGATIVE_INFINITY);
            }
            case BLOCKED -> {
                NDArray m = bits(0.3, B, 1, L, S);
                o = o.mask(AttentionMask.blocked(m));
                fill(full, B, H, L, S, (b, h, i, j) -> m.getDouble(b, 0, i, j) != 0 ? Double.NEGATIVE_INFINITY : 0);
            }
            case ADDITIVE -> {
                NDArray m = NDArray.uniform(rng, Shape.of(H, L, S), -2, 2);
                for (int i = 0; i < m.numel(); i += 5) m.storage().setDouble(i, Double.NEGATIVE_INFINITY);
                o = o.mask(AttentionMask.additive(m));
                fill(full, B, H, L, S, (b, h, i, j) -> m.getDouble(h, i, j));
            }
            case CAUSAL -> {
                o = o.causal(true);
                fill(full, B, H, L, S, (b, h, i, j) -> j <= i ? 0 : Double.NEGATIVE_INFINITY);
            }
            case CAUSAL_BOTTOM_RIGHT -> {
                o = o.mask(AttentionMask.causalBottomRight());
                fill(full, B, H, L, S, (b, h, i, j) -> j <= i + S - L ? 0 : Double.NEGATIVE_INFINITY);
            }
            case KEY_PADDING -> {
                NDArray pad = bits(0.3, B, S);
                o = o.keyPaddingMask(AttentionMask.blocked(pad));
                fill(full, B, H, L, S, (b, h, i, j) -> pad.getDouble(b, j) != 0 ? Double.NEGATIVE_INFINITY : 0);
            }
            case COMBINED -> {
                NDArray pad = bits(0.2, B, S);
                NDArray m = bits(0.8, L, S);
                NDArray add = NDArray.uniform(rng, Shape.of(L, 1), -1, 1);
                o = o.causal(true).keyPaddingMask(AttentionMask.blocked(pad))
                        .mask(AttentionMask.allowed(m).and(AttentionMask.additive(add)));
                fill(full, B, H, L, S, (b, h, i, j) -> j > i || pad.getDouble(b, j) != 0 || m.getDouble(i, j) == 0
                        ? Double.NEGATIVE_INFINITY : add.getDouble(i, 0));
            }
        }
        return new Case(o, full);
    }

    interface MaskFn {
        double at(int b, int h, int i, int j);
    }

    static void fill(double[] full, int B, int H, int L, int S, MaskFn f) {
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H; h++)
                for (int i = 0; i < L; i++)
                    for (int j = 0; j < S; j++) full[((b * H + h) * L + i) * S + j] = f.at(b, h, i, j);
    }

    static void assertClose(String what, double[] actual, double[] expected, double tol) {
        assertThat(actual.length).as(what + " length").isEqualTo(expected.length);
        for (int i = 0; i < actual.length; i++) {
            double a = actual[i], e = expected[i];
            if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
                throw new AssertionError(what + ": element " + i + " is " + a + ", expected " + e + " (tol " + tol + ")");
            }
        }
    }

    private static final int[] ODD = {1, 7, 33, 65, 130};

    @Test
    void bothPathsMatchFloat64ReferenceForEveryMaskKindOnOddSizes() {
        for (Kind kind : Kind.values()) {
            for (int rep = 0; rep < 2; rep++) {
                int B = 1 + rng.nextInt(2), H = 1 + rng.nextInt(2);
                int L = ODD[rng.nextInt(ODD.length)], S = ODD[rng.nextInt(ODD.length)];
                int E = ODD[rng.nextInt(4)], Ev = ODD[rng.nextInt(4)];
                String what = kind + " B=" + B + " H=" + H + " L=" + L + " S=" + S + " E=" + E + " Ev=" + Ev + " seed=" + seed;
                NDArray q = rand(DType.F32, B, H, L, E), k = rand(DType.F32, B, H, S, E), v = rand(DType.F32, B, H, S, Ev);
                Case c = maskCase(kind, B, H, L, S);
                NaiveAttention ref = new NaiveAttention(q, k, v, c.full, 1 / Math.sqrt(E));
                AttentionResult fused = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                        c.options.path(SdpaOptions.Path.FUSED));
                AttentionResult refPath = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                        c.options.needWeights(true));
                assertThat(fused.output().shape()).as(what).isEqualTo(Shape.of(B, H, L, Ev));
                assertThat(fused.weights()).as(what).isNull();
                assertClose("fused " + what, fused.output().data().toDoubleArray(), ref.out, 1e-5);
                assertClose("reference " + what, refPath.output().data().toDoubleArray(), ref.out, 1e-5);
                assertClose("fused vs reference " + what, fused.output().data().toDoubleArray(),
                        refPath.output().data().toDoubleArray(), 1e-5);
                assertClose("weights " + what, refPath.weights().data().toDoubleArray(), ref.weights, 1e-5);
            }
        }
    }

    @Test
    void inferenceIntoInterleavedHeadsMatchesFloat64Reference() {
        // heads read in place from [B, T, 3 * H * E] projections and written into [B, L, H * Ev], as
        // BERT's inference does; S above WHOLE_ROW_KEYS takes the tiled path, the rest whole rows
        int[] keys = {1, 7, 33, 130, FusedAttention.WHOLE_ROW_KEYS + 3};
        for (int rep = 0; rep < 8; rep++) {
            boolean padded = rep % 2 == 0;
            int B = 1 + rng.nextInt(3), H = 1 + rng.nextInt(3), E = ODD[rng.nextInt(3)], Ev = E;
            int S = keys[rng.nextInt(keys.length)], L = S > 200 ? 1 + rng.nextInt(3) : S;
            String what = "B=" + B + " H=" + H + " L=" + L + " S=" + S + " E=" + E + " padded=" + padded + " seed=" + seed;
            NDArray qkv = NDArray.uniform(rng, Shape.of(B, S, 3 * H * E), -1, 1);        // [B, T, 3C], T = S
            int c = H * E;
            Shape heads = Shape.of(B, H, L, E);
            int[] strides = {S * 3 * c, E, 3 * c, 1};
            NDArray q = NDArray.of(qkv.storage(), 0, heads, strides);                     // [B, H, L, E], first L rows
            NDArray k = NDArray.of(qkv.storage(), c, Shape.of(B, H, S, E), strides);
            NDArray v = NDArray.of(qkv.storage(), 2 * c, Shape.of(B, H, S, Ev), strides);
            NDArray outBuf = NDArray.zeros(B, L, H * Ev);
            NDArray out = NDArray.of(outBuf.storage(), 0, Shape.of(B, H, L, Ev), new int[] {L * H * Ev, Ev, H * Ev, 1});
            NDArray pad = bits(padded ? 0.3 : 0, B, S);
            if (padded && B > 1) for (int j = 0; j < S; j++) pad.storage().setDouble(j, 1);   // batch 0: every key padded
            double[] full = new double[B * H * L * S];
            fill(full, B, H, L, S, (bb, h, i, j) -> pad.getDouble(bb, j) != 0 ? Double.NEGATIVE_INFINITY : 0);
            AttentionMask mask = padded ? AttentionMask.blocked(pad) : AttentionMask.none();
            double scale = 1 / Math.sqrt(E);
            try (var g = GradMode.noGrad()) {
                Attention.scaledDotProductInto(q, k, v, mask, scale, out);
            }
            NaiveAttention ref = new NaiveAttention(q.contiguous(), k.contiguous(), v.contiguous(), full, scale);
            assertClose("into " + what, out.contiguous().toDoubleArray(), ref.out, 1e-5);
        }
    }

    @Test
    void packedSequencesMatchEachSequenceAloneInFloat64() {
        // sequences packed without padding in a [N, 3 * H * E] projection, as BERT's packed inference
        // reads them; lengths hit the vector tails, 0, and one past WHOLE_ROW_KEYS (the tiled path)
        int[] lengths = {0, 1, 2, 7, 15, 16, 17, 33, 48, 65};
        for (int rep = 0; rep < 6; rep++) {
            int B = 1 + rng.nextInt(5), H = 1 + rng.nextInt(3), E = ODD[rng.nextInt(3)], Ev = E;
            int[] cu = new int[B + 1];
            for (int b = 0; b < B; b++) {
                int len = rep == 5 && b == 0 ? FusedAttention.WHOLE_ROW_KEYS + 3 : lengths[rng.nextInt(lengths.length)];
                cu[b + 1] = cu[b] + len;
            }
            int n = cu[B], c = H * E;
            String what = "B=" + B + " H=" + H + " E=" + E + " cu=" + java.util.Arrays.toString(cu) + " seed=" + seed;
            NDArray qkv = NDArray.uniform(rng, Shape.of(n, 3 * c), -1, 1);                  // [N, 3C]
            int[] strides = {3 * c, E, 1};
            NDArray q = NDArray.of(qkv.storage(), 0, Shape.of(n, H, E), strides);            // [N, H, E]
            NDArray k = NDArray.of(qkv.storage(), c, Shape.of(n, H, E), strides);
            NDArray v = NDArray.of(qkv.storage(), 2 * c, Shape.of(n, H, Ev), strides);
            NDArray out = NDArray.full(Shape.of(n, H, Ev), 7f);                              // every row must be written
            double scale = 1 / Math.sqrt(E);
            Attention.scaledDotProductPackedInto(q, k, v, cu, scale, out);
            for (int b = 0; b < B; b++) {
                int len = cu[b + 1] - cu[b];
                if (len == 0) continue;
                NDArray qb = q.narrow(0, cu[b], len).permute(1, 0, 2).unsqueeze(0).contiguous();   // [1, H, len, E]
                NDArray kb = k.narrow(0, cu[b], len).permute(1, 0, 2).unsqueeze(0).contiguous();
                NDArray vb = v.narrow(0, cu[b], len).permute(1, 0, 2).unsqueeze(0).contiguous();
                NaiveAttention ref = new NaiveAttention(qb, kb, vb, null, scale);
                NDArray got = out.narrow(0, cu[b], len).permute(1, 0, 2).contiguous();             // [H, len, Ev]
                assertClose("packed " + what + " sequence " + b, got.toDoubleArray(), ref.out, 1e-5);
            }
        }
    }

    @Test
    void anOutputOverlappingAnInputIsRejectedAndAFreeSliceOfTheSameBufferIsNot() {
        // a [N, 4C] buffer: q, k, v in the first three slices; out may take the fourth, not one of theirs
        int n = 9, H = 2, E = 5, c = H * E;
        NDArray buf = NDArray.uniform(rng, Shape.of(n, 4 * c), -1, 1);
        int[] strides = {4 * c, E, 1};
        NDArray q = NDArray.of(buf.storage(), 0, Shape.of(n, H, E), strides);
        NDArray k = NDArray.of(buf.storage(), c, Shape.of(n, H, E), strides);
        NDArray v = NDArray.of(buf.storage(), 2 * c, Shape.of(n, H, E), strides);
        int[] cu = {0, 4, 9};
        double scale = 1 / Math.sqrt(E);
        for (NDArray clash : List.of(q, v, NDArray.of(buf.storage(), 2 * c + 3, Shape.of(n, H, E), strides))) {
            assertThatThrownBy(() -> Attention.scaledDotProductPackedInto(q, k, v, cu, scale, clash))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out overlaps");
        }
        NDArray separate = NDArray.zeros(n, H, E);
        Attention.scaledDotProductPackedInto(q, k, v, cu, scale, separate);
        NDArray fourth = NDArray.of(buf.storage(), 3 * c, Shape.of(n, H, E), strides);
        Attention.scaledDotProductPackedInto(q, k, v, cu, scale, fourth);
        assertThat(fourth.contiguous().toDoubleArray()).containsExactly(separate.toDoubleArray());

        // the padded entry point, heads as [1, H, T, E] views of the same buffer
        int[] s4 = {n * 4 * c, E, 4 * c, 1};
        Shape heads = Shape.of(1, H, n, E);
        NDArray q4 = NDArray.of(buf.storage(), 0, heads, s4), k4 = NDArray.of(buf.storage(), c, heads, s4);
        NDArray v4 = NDArray.of(buf.storage(), 2 * c, heads, s4);
        assertThatThrownBy(() -> Attention.scaledDotProductInto(q4, k4, v4, AttentionMask.none(), scale, k4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out overlaps k");
        NDArray out4 = NDArray.of(buf.storage(), 3 * c, heads, s4);
        Attention.scaledDotProductInto(q4, k4, v4, AttentionMask.none(), scale, out4);
    }

    @Test
    void packedAttentionRejectsBadLayouts() {
        NDArray q = NDArray.zeros(5, 2, 4), out = NDArray.zeros(5, 2, 4);
        assertThatThrownBy(() -> Attention.scaledDotProductPackedInto(q, q, q, new int[] {0, 3, 4}, 1, out))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("from 0 to N = 5");
        assertThatThrownBy(() -> Attention.scaledDotProductPackedInto(q, q, q, new int[] {0, 3, 2, 5}, 1, out))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("decreases at 2");
        assertThatThrownBy(() -> Attention.scaledDotProductPackedInto(q, NDArray.zeros(5, 2, 3), q, new int[] {0, 5}, 1, out))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("shapes do not fit");
        assertThatThrownBy(() -> Attention.scaledDotProductPackedInto(q, q, q, new int[] {0, 5}, 1, out.to(DType.F64)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out must be an F32 heap view");
        assertThatThrownBy(() -> Attention.scaledDotProductPackedInto(q, q, q, new int[] {0, 5}, 1, NDArray.zeros(5, 4, 2).permute(0, 2, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unit last stride");
    }

    @Test
    void fusedIsExactOnSmallTilesInFloat64() {
        // tiny blocks force many tiles, partial tiles and the online rescaling on every row
        for (Kind kind : Kind.values()) {
            int B = 2, H = 2, L = 1 + rng.nextInt(9), S = 1 + rng.nextInt(9), E = 1 + rng.nextInt(4), Ev = 1 + rng.nextInt(4);
            NDArray q = rand(DType.F64, B, H, L, E), k = rand(DType.F64, B, H, S, E), v = rand(DType.F64, B, H, S, Ev);
            Case c = maskCase(kind, B, H, L, S);
            NaiveAttention ref = new NaiveAttention(q, k, v, c.full, 0.7);
            Tensor out = fusedWithBlocks(Tensor.of(q), Tensor.of(k), Tensor.of(v), c.options.scale(0.7), 2, 3);
            assertClose("fused F64 " + kind + " L=" + L + " S=" + S + " seed=" + seed, out.data().toDoubleArray(), ref.out, 1e-12);
        }
    }

    /** The fused op on q, k, v with the given options' masks and explicit block sizes. */
    static Tensor fusedWithBlocks(Tensor q, Tensor k, Tensor v, SdpaOptions o, int blockQ, int blockK) {
        int L = q.dim(-2), S = k.dim(-2);
        Shape batch = Shape.of(java.util.Arrays.copyOf(q.shape().toArray(), q.rank() - 2));
        AttentionMask mask = o.mask();
        if (o.causal()) mask = mask.and(AttentionMask.causal());
        if (!o.keyPadding().isEmpty()) mask = mask.and(o.keyPadding().asKeyPadding(q.rank()));
        double scale = o.scale() != null ? o.scale() : 1 / Math.sqrt(q.dim(-1));
        int group = q.rank() >= 3 ? q.dim(-3) / k.dim(-3) : 1;
        return Attention.fused(q, k, v, batch, group, mask, scale, L, S, q.dtype(), blockQ, blockK);
    }

    @Test
    void gradientsOfBothPathsPassGradCheckWithEveryMaskKind() {
        for (Kind kind : Kind.values()) {
            int B = 2, H = 1 + rng.nextInt(2), L = 1 + rng.nextInt(5), S = 1 + rng.nextInt(5), E = 1 + rng.nextInt(3);
            int Ev = 1 + rng.nextInt(3);
            Case c = maskCase(kind, B, H, L, S);
            String what = kind + " H=" + H + " L=" + L + " S=" + S + " seed=" + seed;
            NDArray q = rand(DType.F64, B, H, L, E), k = rand(DType.F64, B, H, S, E), v = rand(DType.F64, B, H, S, Ev);
            try {
                GradCheck.check(t -> Attention.scaledDotProduct(t.get(0), t.get(1), t.get(2),
                        c.options.path(SdpaOptions.Path.REFERENCE)).output(), q, k, v);
                GradCheck.check(t -> fusedWithBlocks(t.get(0), t.get(1), t.get(2), c.options, 2, 3), q, k, v);
                GradCheck.check(t -> Attention.scaledDotProduct(t.get(0), t.get(1), t.get(2),
                        c.options.path(SdpaOptions.Path.FUSED)).output(), q, k, v);
            } catch (AssertionError e) {
                throw new AssertionError(what + ": " + e.getMessage(), e);
            }
        }
    }

    @Test
    void fusedGradientsMatchReferenceGradientsInFloat32OnOddSizes() {
        for (Kind kind : new Kind[] {Kind.NONE, Kind.CAUSAL, Kind.COMBINED, Kind.ADDITIVE}) {
            int B = 1, H = 2, L = ODD[2 + rng.nextInt(3)], S = ODD[2 + rng.nextInt(3)], E = ODD[1 + rng.nextInt(3)];
            int Ev = ODD[1 + rng.nextInt(2)];
            Case c = maskCase(kind, B, H, L, S);
            NDArray q = rand(DType.F32, B, H, L, E), k = rand(DType.F32, B, H, S, E), v = rand(DType.F32, B, H, S, Ev);
            NDArray gOut = rand(DType.F32, B, H, L, Ev);
            NDArray[] fusedG = grads(q, k, v, gOut, c.options.path(SdpaOptions.Path.FUSED));
            NDArray[] refG = grads(q.to(DType.F64), k.to(DType.F64), v.to(DType.F64), gOut.to(DType.F64),
                    c.options.path(SdpaOptions.Path.REFERENCE));
            String what = kind + " L=" + L + " S=" + S + " E=" + E + " seed=" + seed;
            for (int i = 0; i < 3; i++) {
                assertClose("grad " + "qkv".charAt(i) + " " + what, fusedG[i].toDoubleArray(), refG[i].toDoubleArray(), 1e-4);
            }
        }
    }

    private static NDArray[] grads(NDArray q, NDArray k, NDArray v, NDArray gOut, SdpaOptions o) {
        Tensor tq = Tensor.param(q.copy()), tk = Tensor.param(k.copy()), tv = Tensor.param(v.copy());
        Attention.scaledDotProduct(tq, tk, tv, o).output().backward(gOut);
        return new NDArray[] {tq.grad(), tk.grad(), tv.grad()};
    }

    @Test
    void maskPolarityAllowedAndBlockedAreOpposite() {
        // query 0 may attend only to key 1; query 1 to keys 0 and 1
        NDArray allow = NDArray.of(new float[] {0, 1, 1, 1}, 2, 2);
        NDArray v = NDArray.of(new float[] {10, 20}, 2, 1);
        NDArray q = rand(DType.F32, 2, 3), k = rand(DType.F32, 2, 3);
        for (SdpaOptions.Path path : new SdpaOptions.Path[] {SdpaOptions.Path.FUSED, SdpaOptions.Path.REFERENCE}) {
            Tensor a = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                    SdpaOptions.defaults().mask(AttentionMask.allowed(allow)).path(path)).output();
            assertThat(a.data().getDouble(0, 0)).as("allowed: query 0 sees only key 1 (" + path + ")").isEqualTo(20.0);
            NDArray block = NDArray.of(new float[] {1, 0, 0, 0}, 2, 2);
            Tensor b = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                    SdpaOptions.defaults().mask(AttentionMask.blocked(block)).path(path)).output();
            assertThat(b.data().toDoubleArray()).as("blocked(1 - m) == allowed(m) (" + path + ")").containsExactly(
                    a.data().toDoubleArray());
        }
        // masked keys get weight exactly 0, for random masks of both polarities
        NDArray m = bits(0.5, 5, 7);
        NDArray q2 = rand(DType.F32, 5, 4), k2 = rand(DType.F32, 7, 4), v2 = rand(DType.F32, 7, 3);
        Tensor wa = Attention.scaledDotProduct(Tensor.of(q2), Tensor.of(k2), Tensor.of(v2),
                SdpaOptions.defaults().mask(AttentionMask.allowed(m)).needWeights(true)).weights();
        Tensor wb = Attention.scaledDotProduct(Tensor.of(q2), Tensor.of(k2), Tensor.of(v2),
                SdpaOptions.defaults().mask(AttentionMask.blocked(m)).needWeights(true)).weights();
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 7; j++) {
                boolean one = m.getDouble(i, j) != 0;
                if (!one) assertThat(wa.data().getDouble(i, j)).as("allowed(m): m=0 blocks, seed " + seed).isEqualTo(0.0);
                if (one) assertThat(wb.data().getDouble(i, j)).as("blocked(m): m=1 blocks, seed " + seed).isEqualTo(0.0);
            }
        }
    }

    @Test
    void fullyMaskedRowsGiveZeroOutputZeroWeightsAndZeroGradient() {
        int L = 4, S = 5, E = 3;
        NDArray block = NDArray.zeros(L, S);
        for (int j = 0; j < S; j++) block.set(1, 2, j);                        // query 2 sees nothing
        block.set(1, 0, 1);
        for (SdpaOptions.Path path : new SdpaOptions.Path[] {SdpaOptions.Path.FUSED, SdpaOptions.Path.REFERENCE}) {
            Tensor q = Tensor.param(rand(DType.F32, L, E)), k = Tensor.param(rand(DType.F32, S, E));
            Tensor v = Tensor.param(rand(DType.F32, S, E));
            SdpaOptions o = SdpaOptions.defaults().mask(AttentionMask.blocked(block)).path(path);
            AttentionResult r = Attention.scaledDotProduct(q, k, v, o);
            for (int e = 0; e < E; e++) assertThat(r.output().data().getDouble(2, e)).as(path + " output row 2").isEqualTo(0.0);
            r.output().sum().backward();
            for (int e = 0; e < E; e++) assertThat(q.grad().getDouble(2, e)).as(path + " dq row 2").isEqualTo(0.0);
            for (NDArray g : List.of(q.grad(), k.grad(), v.grad())) {
                for (double x : g.toDoubleArray()) assertThat(x).as(path + " gradient is finite").isFinite();
            }
        }
        Tensor w = Attention.scaledDotProduct(Tensor.of(rand(DType.F32, L, E)), Tensor.of(rand(DType.F32, S, E)),
                Tensor.of(rand(DType.F32, S, E)), SdpaOptions.defaults().mask(AttentionMask.blocked(block)).needWeights(true))
                .weights();
        for (int j = 0; j < S; j++) assertThat(w.data().getDouble(2, j)).isEqualTo(0.0);
        // gradient check through a fully masked row (fused and reference)
        NDArray q = rand(DType.F64, L, E), k = rand(DType.F64, S, E), v = rand(DType.F64, S, E);
        for (SdpaOptions.Path path : new SdpaOptions.Path[] {SdpaOptions.Path.FUSED, SdpaOptions.Path.REFERENCE}) {
            GradCheck.check(t -> Attention.scaledDotProduct(t.get(0), t.get(1), t.get(2),
                    SdpaOptions.defaults().mask(AttentionMask.blocked(block)).path(path)).output(), q, k, v);
        }
    }

    @Test
    void groupedQueryAttentionEqualsRepeatedKeysAndValues() {
        int B = 2, Hq = 6, Hk = 2, L = 9, S = 11, E = 5;
        NDArray q = rand(DType.F32, B, Hq, L, E), k = rand(DType.F32, B, Hk, S, E), v = rand(DType.F32, B, Hk, S, E);
        for (Kind kind : new Kind[] {Kind.NONE, Kind.CAUSAL, Kind.KEY_PADDING}) {
            Case c = maskCase(kind, B, Hq, L, S);
            NaiveAttention ref = new NaiveAttention(q, k, v, c.full, 1 / Math.sqrt(E));
            for (SdpaOptions.Path path : new SdpaOptions.Path[] {SdpaOptions.Path.FUSED, SdpaOptions.Path.REFERENCE}) {
                Tensor out = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                        c.options.enableGqa(true).path(path)).output();
                assertClose("GQA " + kind + " " + path + " seed " + seed, out.data().toDoubleArray(), ref.out, 1e-5);
            }
        }
        NDArray q64 = rand(DType.F64, 1, 4, 3, 2), k64 = rand(DType.F64, 1, 2, 4, 2), v64 = rand(DType.F64, 1, 2, 4, 3);
        for (SdpaOptions.Path path : new SdpaOptions.Path[] {SdpaOptions.Path.FUSED, SdpaOptions.Path.REFERENCE}) {
            GradCheck.check(t -> Attention.scaledDotProduct(t.get(0), t.get(1), t.get(2),
                    SdpaOptions.defaults().enableGqa(true).causal(true).path(path)).output(), q64, k64, v64);
        }
        assertThatThrownBy(() -> Attention.scaledDotProduct(Tensor.of(rand(DType.F32, 1, 5, 3, 2)),
                Tensor.of(rand(DType.F32, 1, 2, 3, 2)), Tensor.of(rand(DType.F32, 1, 2, 3, 2)),
                SdpaOptions.defaults().enableGqa(true))).hasMessageContaining("multiple of the key heads");
        assertThatThrownBy(() -> Attention.scaledDotProduct(Tensor.of(rand(DType.F32, 1, 4, 3, 2)),
                Tensor.of(rand(DType.F32, 1, 2, 3, 2)), Tensor.of(rand(DType.F32, 1, 2, 3, 2))))
                .hasMessageContaining("cannot be broadcast").hasMessageContaining("enableGqa");
    }

    @Test
    void oneQueryRowPerHeadAsInDecodeStepsMatchesFloat64Reference() {
        // a decode step: one query row per head, grouped-query heads, a causal mask that shows every
        // key (or a prefix, top-left), key padding; no gradient, so the one-query inference path runs
        // (the query heads of a key/value head scored as one block), also on interleaved heads
        int[] keys = {1, 5, 40, 300, FusedAttention.ONE_QUERY_KEYS + 7};
        for (int rep = 0; rep < 12; rep++) {
            int B = 1 + rng.nextInt(2), Hk = 1 + rng.nextInt(3), group = 1 + rng.nextInt(4), Hq = Hk * group;
            int S = keys[rep < keys.length ? rep : rng.nextInt(keys.length - 1)], E = ODD[rng.nextInt(3)];
            Kind kind = new Kind[] {Kind.NONE, Kind.CAUSAL, Kind.CAUSAL_BOTTOM_RIGHT, Kind.KEY_PADDING}[rep % 4];
            boolean interleaved = rep % 3 == 0;
            String what = "B=" + B + " Hq=" + Hq + " Hk=" + Hk + " S=" + S + " E=" + E + " " + kind + " interleaved="
                    + interleaved + " seed=" + seed;
            NDArray q = rand(DType.F32, B, Hq, 1, E);
            if (interleaved) {                                                     // [B, 1, Hq * E] viewed as [B, Hq, 1, E]
                NDArray buf = rand(DType.F32, B, 1, Hq * E);
                q = NDArray.of(buf.storage(), 0, Shape.of(B, Hq, 1, E), new int[] {Hq * E, E, Hq * E, 1});
            }
            NDArray k = rand(DType.F32, B, Hk, S, E), v = rand(DType.F32, B, Hk, S, E);
            Case c = maskCase(kind, B, Hq, 1, S);
            NDArray kRep = repeatHeads(k, group), vRep = repeatHeads(v, group);
            NaiveAttention ref = new NaiveAttention(q.contiguous(), kRep, vRep, c.full, 1 / Math.sqrt(E));
            Tensor out;
            try (var g = GradMode.noGrad()) {
                out = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                        c.options.enableGqa(Hq != Hk).path(SdpaOptions.Path.FUSED)).output();
            }
            assertClose("one query " + what, out.data().contiguous().toDoubleArray(), ref.out, 1e-5);
        }
    }

    /** [B, H, S, E] with each head repeated {@code group} times: [B, H * group, S, E]. */
    private static NDArray repeatHeads(NDArray x, int group) {
        int B = x.dim(0), H = x.dim(1), S = x.dim(2), E = x.dim(3);
        NDArray out = NDArray.zeros(B, H * group, S, E);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < H * group; h++) out.narrow(0, b, 1).narrow(1, h, 1).copyFrom(x.narrow(0, b, 1).narrow(1, h / group, 1));
        return out;
    }

    @Test
    void leadingDimensionsBroadcastAndGradientsSumBack() {
        // k and v shared over the batch ([1, H, S, E]); q shared over heads ([B, 1, L, E])
        NDArray q = rand(DType.F64, 2, 1, 3, 2), k = rand(DType.F64, 1, 3, 4, 2), v = rand(DType.F64, 4, 2);
        for (SdpaOptions.Path path : new SdpaOptions.Path[] {SdpaOptions.Path.FUSED, SdpaOptions.Path.REFERENCE}) {
            Tensor out = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                    SdpaOptions.defaults().path(path)).output();
            assertThat(out.shape()).isEqualTo(Shape.of(2, 3, 3, 2));
            NaiveAttention ref = new NaiveAttention(q.expand(2, 3, 3, 2).copy(), k.expand(2, 3, 4, 2).copy(),
                    v.expand(2, 3, 4, 2).copy(), null, 1 / Math.sqrt(2));
            assertClose("broadcast " + path, out.data().toDoubleArray(), ref.out, 1e-12);
            GradCheck.check(t -> Attention.scaledDotProduct(t.get(0), t.get(1), t.get(2),
                    SdpaOptions.defaults().path(path)).output(), q, k, v);
        }
        // non-contiguous inputs (transposed views) give the same result as contiguous copies
        NDArray qt = rand(DType.F32, 2, 7, 5).transpose(-1, -2), kt = rand(DType.F32, 6, 2, 7).transpose(0, 1);
        NDArray vt = rand(DType.F32, 6, 2, 4).transpose(0, 1);
        double[] viaViews = Attention.scaledDotProduct(Tensor.of(qt), Tensor.of(kt), Tensor.of(vt)).output().data().toDoubleArray();
        double[] viaCopies = Attention.scaledDotProduct(Tensor.of(qt.copy()), Tensor.of(kt.copy()), Tensor.of(vt.copy()))
                .output().data().toDoubleArray();
        assertThat(viaViews).containsExactly(viaCopies);
    }

    @Test
    void dropoutIsSeededOnlyInTrainingAndNotOnTheFusedPath() {
        NDArray q = rand(DType.F32, 2, 6, 4), k = rand(DType.F32, 2, 8, 4), v = rand(DType.F32, 2, 8, 3);
        SdpaOptions base = SdpaOptions.defaults().needWeights(true);
        AttentionResult plain = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v), base);
        AttentionResult d1 = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                base.dropout(0.4, new SplittableRandom(7)));
        AttentionResult d2 = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                base.dropout(0.4, new SplittableRandom(7)));
        assertThat(d1.output().data().toDoubleArray()).containsExactly(d2.output().data().toDoubleArray());
        double[] w = d1.weights().data().toDoubleArray(), w0 = plain.weights().data().toDoubleArray();
        int zeros = 0;
        for (int i = 0; i < w.length; i++) {
            if (w[i] == 0) zeros++;
            else assertThat(w[i]).isCloseTo(w0[i] / 0.6, org.assertj.core.data.Offset.offset(1e-6));
        }
        assertThat(zeros).as("some weights dropped, seed " + seed).isBetween(1, w.length - 1);
        AttentionResult eval = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                base.dropout(0.4, new SplittableRandom(7)).training(false));
        assertThat(eval.output().data().toDoubleArray()).containsExactly(plain.output().data().toDoubleArray());
        assertThatThrownBy(() -> Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                SdpaOptions.defaults().dropout(0.1, new SplittableRandom(1)).path(SdpaOptions.Path.FUSED)))
                .hasMessageContaining("dropout");
        assertThatThrownBy(() -> Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                SdpaOptions.defaults().dropout(0.1, null))).hasMessageContaining("SplittableRandom");
    }

    @Test
    void badInputsGiveClearErrors() {
        Tensor q = Tensor.of(rand(DType.F32, 2, 3, 4)), k = Tensor.of(rand(DType.F32, 2, 5, 4)), v = Tensor.of(rand(DType.F32, 2, 5, 6));
        assertThatThrownBy(() -> Attention.scaledDotProduct(q, Tensor.of(rand(DType.F32, 2, 5, 3)), v))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("embedding dimension");
        assertThatThrownBy(() -> Attention.scaledDotProduct(q, k, Tensor.of(rand(DType.F32, 2, 4, 6))))
                .hasMessageContaining("number of keys S");
        assertThatThrownBy(() -> Attention.scaledDotProduct(q, k, Tensor.of(rand(DType.F64, 2, 5, 6))))
                .hasMessageContaining("dtypes differ");
        assertThatThrownBy(() -> Attention.scaledDotProduct(q, k, v,
                SdpaOptions.defaults().mask(AttentionMask.allowed(NDArray.ones(3, 4)))))
                .hasMessageContaining("attention mask of shape [3, 4]").hasMessageContaining("[2, 3, 5]");
        assertThatThrownBy(() -> Attention.scaledDotProduct(q, k, v,
                SdpaOptions.defaults().keyPaddingMask(AttentionMask.blocked(NDArray.ones(3, 5)))))
                .hasMessageContaining("key padding mask");
        assertThatThrownBy(() -> Attention.scaledDotProduct(Tensor.of(rand(DType.F32, 3, 4)), Tensor.of(rand(DType.F32, 5, 4)),
                Tensor.of(rand(DType.F32, 5, 4)), SdpaOptions.defaults().keyPaddingMask(AttentionMask.blocked(NDArray.ones(1, 5)))))
                .hasMessageContaining("batched");
        assertThatThrownBy(() -> Attention.scaledDotProduct(q, k, v, SdpaOptions.defaults().needWeights(true)
                .path(SdpaOptions.Path.FUSED))).hasMessageContaining("weights");
        assertThatThrownBy(() -> AttentionMask.additive(NDArray.of(new float[] {0, Float.NaN}, 2)))
                .hasMessageContaining("NaN");
        assertThatThrownBy(() -> SdpaOptions.defaults().dropout(1.5, null)).hasMessageContaining("[0, 1]");
    }

    @Test
    void noGradModeRecordsNothing() {
        Tensor q = Tensor.param(rand(DType.F32, 3, 4)), k = Tensor.param(rand(DType.F32, 5, 4)), v = Tensor.param(rand(DType.F32, 5, 4));
        try (var g = GradMode.noGrad()) {
            assertThat(Attention.scaledDotProduct(q, k, v).output().requiresGrad()).isFalse();
        }
        assertThat(Attention.scaledDotProduct(q, k, v).output().requiresGrad()).isTrue();
    }
}
