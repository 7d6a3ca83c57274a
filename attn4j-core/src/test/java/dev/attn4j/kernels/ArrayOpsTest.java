package dev.attn4j.kernels;

import dev.attn4j.kernels.TestArrays.Layout;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static dev.attn4j.kernels.TestArrays.assertClose;
import static dev.attn4j.kernels.TestArrays.atBroadcast;
import static dev.attn4j.kernels.TestArrays.rand;
import static dev.attn4j.kernels.TestArrays.tol;
import static dev.attn4j.kernels.TestArrays.unravel;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArrayOpsTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    private String tag(String s) {
        return s + " (seed " + seed + ")";
    }

    private static double[] naiveUnary(UnaryOp op, NDArray x) {
        return Arrays.stream(x.toDoubleArray()).map(v -> ArrayOps.apply(op, v)).toArray();
    }

    @Test
    void referenceDefinitionsHaveKnownValues() {
        double[][] known = { // op index in UnaryOp order, x, f(x)
                {-1.5, 1.5}, {1, Math.E}, {Math.E, 1}, {0.5, 0.46211715726000974}, {2.25, 1.5}, {-0.3, 0},
                {1, 0.8413447460685429}, {1, 0.8411919906082768}, {1, 0.7310585786300049}, {0, 0.5}, {-2, 2}, {-3, 9}, {4, 0.25}};
        UnaryOp[] ops = UnaryOp.values();
        for (int i = 0; i < ops.length; i++) {
            assertThat(ArrayOps.apply(ops[i], known[i][0])).as(ops[i].name()).isCloseTo(known[i][1], org.assertj.core.data.Offset.offset(1e-12));
        }
        assertThat(ArrayOps.apply(BinaryOp.POW, 2, 10)).isEqualTo(1024);
        assertThat(ArrayOps.apply(BinaryOp.MIN, 2, -1)).isEqualTo(-1);
    }

    @Test
    void unaryOpsMatchReferenceForEveryLayoutAndDtype() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            for (Layout l : Layout.values()) {
                for (int[] shape : new int[][] {{}, {1}, {37}, {5, 19}, {3, 4, 33}, {0, 3}}) {
                    NDArray x = rand(rng, dt, l, shape);
                    for (UnaryOp op : UnaryOp.values()) {
                        NDArray in = op == UnaryOp.LOG || op == UnaryOp.SQRT ? ArrayOps.unary(UnaryOp.ABS, x) : x;
                        NDArray y = ArrayOps.unary(op, in);
                        assertThat(y.dtype()).isEqualTo(dt);
                        assertClose(tag(op + " " + dt + " " + l + " " + in.shape()), y, in.shape(), naiveUnary(op, in), tol(dt) * 10);
                    }
                }
            }
        }
    }

    private static double[] naiveBinary(BinaryOp op, NDArray a, NDArray b, Shape s) {
        double[] out = new double[s.numel()];
        for (int i = 0; i < out.length; i++) {
            int[] idx = unravel(i, s);
            out[i] = ArrayOps.apply(op, atBroadcast(a, idx), atBroadcast(b, idx));
        }
        return out;
    }

    @Test
    void binaryOpsBroadcastLikeNumpy() {
        int[][][] pairs = {
                {{3, 1, 5}, {4, 1}}, {{7, 13}, {13}}, {{7, 13}, {7, 1}}, {{13}, {7, 13}}, {{7, 1}, {7, 13}},
                {{2, 3, 17}, {2, 3, 17}}, {{}, {4, 5}}, {{4, 5}, {}}, {{1}, {9}}, {{2, 1, 3}, {1, 4, 1}},
                {{0, 3}, {3}}, {{5, 0}, {1}}, {{2, 3, 5}, {3, 1}}, {{2, 3, 5}, {1, 3, 5}}};
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            for (Layout la : Layout.values()) {
                for (int[][] p : pairs) {
                    NDArray a = rand(rng, dt, la, p[0]);
                    NDArray b = rand(rng, dt, 0.5, 2, p[1]);
                    Shape s = Shape.broadcast(a.shape(), b.shape());
                    for (BinaryOp op : BinaryOp.values()) {
                        NDArray aa = op == BinaryOp.POW ? ArrayOps.unary(UnaryOp.ABS, a) : a;
                        assertClose(tag(op + " " + dt + " " + la + " " + a.shape() + " " + b.shape()),
                                ArrayOps.binary(op, aa, b), s, naiveBinary(op, aa, b, s), tol(dt) * 10);
                        assertClose(tag(op + " swapped " + dt + " " + la), ArrayOps.binary(op, b, aa), s,
                                naiveBinary(op, b, aa, s), tol(dt) * 10);
                    }
                }
            }
        }
    }

    @Test
    void bigBinaryAndScalarOpsSplitOverThreads() {
        NDArray a = rand(rng, DType.F32, 301, 257);
        NDArray b = rand(rng, DType.F32, 257);
        Shape s = a.shape();
        assertClose(tag("big add"), ArrayOps.add(a, b), s, naiveBinary(BinaryOp.ADD, a, b, s), 1e-6);
        double[] av = a.toDoubleArray();
        assertClose(tag("scalar mul"), ArrayOps.binaryScalar(BinaryOp.MUL, a, 1.5), s,
                Arrays.stream(av).map(v -> v * 1.5).toArray(), 1e-6);
        assertClose(tag("scalar - x"), ArrayOps.scalarBinary(BinaryOp.SUB, 2, a), s,
                Arrays.stream(av).map(v -> 2 - v).toArray(), 1e-6);
        NDArray t = a.transpose(0, 1);
        assertClose(tag("scalar div on view"), ArrayOps.binaryScalar(BinaryOp.DIV, t, 4), t.shape(),
                Arrays.stream(t.toDoubleArray()).map(v -> v / 4).toArray(), 1e-6);
    }

    @Test
    void mixedDtypesAndBadShapesGiveClearErrors() {
        NDArray f = rand(rng, DType.F32, 3, 4), d = rand(rng, DType.F64, 3, 4), g = rand(rng, DType.F32, 5);
        assertThatThrownBy(() -> ArrayOps.add(f, d)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("F32").hasMessageContaining("F64");
        assertThatThrownBy(() -> ArrayOps.mul(f, g)).hasMessageContaining("[3, 4]").hasMessageContaining("[5]")
                .hasMessageContaining("mul");
        assertThatThrownBy(() -> ArrayOps.matmul(f, f)).hasMessageContaining("matmul").hasMessageContaining("[3, 4]");
        assertThatThrownBy(() -> ArrayOps.sum(f, 2, false)).hasMessageContaining("dimension 2");
        assertThatThrownBy(() -> ArrayOps.maskedFill(f, rand(rng, DType.F32, 2, 3, 4), 0)).hasMessageContaining("mask");
    }

    @Test
    void whereAndMaskedFill() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            NDArray cond = ArrayOps.map(rand(rng, DType.F32, 4, 1), v -> v > 0 ? 1 : 0);
            NDArray a = rand(rng, dt, Layout.TRANSPOSED, 4, 6), b = rand(rng, dt, 6);
            Shape s = Shape.of(4, 6);
            double[] exp = new double[24];
            for (int i = 0; i < 24; i++) {
                int[] idx = unravel(i, s);
                exp[i] = atBroadcast(cond, idx) != 0 ? atBroadcast(a, idx) : atBroadcast(b, idx);
            }
            assertClose(tag("where " + dt), ArrayOps.where(cond, a, b), s, exp, 0);
            double[] mf = new double[24];
            for (int i = 0; i < 24; i++) {
                int[] idx = unravel(i, s);
                mf[i] = atBroadcast(cond, idx) != 0 ? -7 : atBroadcast(a, idx);
            }
            assertClose(tag("maskedFill " + dt), ArrayOps.maskedFill(a, cond, -7), s, mf, 0);
        }
    }

    /** Naive reduction over dims of an arbitrary array. */
    private static double[] naiveReduce(NDArray a, int[] dims, String kind) {
        boolean[] red = new boolean[a.rank()];
        for (int d : dims) red[a.shape().axis(d)] = true;
        int[] ks = a.shape().toArray();
        for (int i = 0; i < ks.length; i++) if (red[i]) ks[i] = 1;
        Shape keep = Shape.of(ks);
        double[] out = new double[keep.numel()];
        Arrays.fill(out, kind.equals("sum") ? 0 : Double.NEGATIVE_INFINITY);
        double[] arg = new double[out.length];
        int[] redIdx = new int[out.length];
        for (int i = 0; i < a.numel(); i++) {
            int[] idx = unravel(i, a.shape());
            int[] oi = idx.clone();
            for (int d = 0; d < oi.length; d++) if (red[d]) oi[d] = 0;
            int o = flat(oi, keep);
            double v = a.getDouble(idx);
            if (kind.equals("sum")) out[o] += v;
            else if (v > out[o]) {
                out[o] = v;
                arg[o] = redIdx[o];
            }
            redIdx[o]++;
        }
        return kind.equals("argmax") ? arg : out;
    }

    private static int flat(int[] idx, Shape s) {
        int f = 0;
        for (int i = 0; i < idx.length; i++) f = f * s.dim(i) + idx[i];
        return f;
    }

    private static Shape dropDims(Shape s, int[] dims, boolean keep) {
        boolean[] red = new boolean[s.rank()];
        for (int d : dims) red[s.axis(d)] = true;
        int[] out = new int[s.rank()];
        int n = 0;
        for (int i = 0; i < s.rank(); i++) {
            if (!red[i]) out[n++] = s.dim(i);
            else if (keep) out[n++] = 1;
        }
        return Shape.of(Arrays.copyOf(out, n));
    }

    @Test
    void reductionsOverAnyDimsMatchReference() {
        int[][] dimSets = {{0}, {1}, {2}, {-1}, {0, 1}, {1, 2}, {0, 2}, {0, 1, 2}, {}};
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            for (Layout l : Layout.values()) {
                NDArray a = rand(rng, dt, l, 5, 7, 33);
                for (int[] dims : dimSets) {
                    for (boolean keep : new boolean[] {true, false}) {
                        Shape os = dropDims(a.shape(), dims, keep);
                        double[] sum = naiveReduce(a, dims, "sum");
                        assertClose(tag("sum " + Arrays.toString(dims) + " " + l + " " + dt), ArrayOps.sum(a, dims, keep), os, sum, tol(dt) * 5);
                        int cnt = 1;
                        for (int d : dims) cnt *= a.dim(d);
                        int c = cnt;
                        assertClose(tag("mean " + Arrays.toString(dims)), ArrayOps.mean(a, dims, keep), os,
                                Arrays.stream(sum).map(v -> v / c).toArray(), tol(dt) * 5);
                        if (dims.length == 1) {
                            assertClose(tag("max " + dims[0] + " " + l), ArrayOps.max(a, dims[0], keep), os, naiveReduce(a, dims, "max"), 0);
                            assertClose(tag("argmax " + dims[0] + " " + l), ArrayOps.argmax(a, dims[0], keep), os, naiveReduce(a, dims, "argmax"), 0);
                        }
                    }
                }
            }
            NDArray a = rand(rng, dt, 4, 9);
            assertClose(tag("sum all"), ArrayOps.sum(a), Shape.scalar(), new double[] {Arrays.stream(a.toDoubleArray()).sum()}, tol(dt) * 5);
            assertThat(ArrayOps.maxAll(a)).isEqualTo(Arrays.stream(a.toDoubleArray()).max().getAsDouble());
        }
    }

    @Test
    void reductionsOfEmptyAndRankZero() {
        NDArray e = NDArray.zeros(3, 0);
        assertClose("sum over empty dim", ArrayOps.sum(e, 1, false), Shape.of(3), new double[3], 0);
        assertClose("mean over empty dim", ArrayOps.mean(e, 1, false), Shape.of(3), new double[] {Double.NaN, Double.NaN, Double.NaN}, 0);
        assertThatThrownBy(() -> ArrayOps.max(e, 1, false)).hasMessageContaining("empty");
        NDArray s = NDArray.scalar(2.5);
        assertThat(ArrayOps.sum(s).item()).isEqualTo(2.5);
        assertThat(ArrayOps.sum(s).rank()).isZero();
        NDArray withNaN = NDArray.of(new float[] {1, Float.NaN, 3}, 3);
        assertThat(ArrayOps.max(withNaN, 0, false).item()).isNaN();
        assertThat(ArrayOps.argmax(withNaN, 0, false).item()).isEqualTo(1);
    }

    @Test
    void sumToReducesBroadcastDims() {
        NDArray g = rand(rng, DType.F32, 3, 4, 5);
        assertClose(tag("sumTo [4,1]"), ArrayOps.sumTo(g, Shape.of(4, 1)), Shape.of(4, 1),
                naiveReduce(g, new int[] {0, 2}, "sum"), 1e-5);
        assertClose(tag("sumTo [5]"), ArrayOps.sumTo(g, Shape.of(5)), Shape.of(5), naiveReduce(g, new int[] {0, 1}, "sum"), 1e-5);
        assertClose(tag("sumTo []"), ArrayOps.sumTo(g, Shape.scalar()), Shape.scalar(), naiveReduce(g, new int[] {0, 1, 2}, "sum"), 1e-5);
        assertThatThrownBy(() -> ArrayOps.sumTo(g, Shape.of(2))).hasMessageContaining("[2]");
    }

    private static double[] naiveMatmul(NDArray a, NDArray b, Shape out) {
        // a, b already rank >= 2; out = batch + [m, n]
        int m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
        double[] res = new double[out.numel()];
        for (int i = 0; i < res.length; i++) {
            int[] idx = unravel(i, out);
            int r = idx.length;
            double s = 0;
            for (int p = 0; p < k; p++) {
                int[] ai = Arrays.copyOf(idx, r), bi = Arrays.copyOf(idx, r);
                ai[r - 1] = p;
                bi[r - 2] = p;
                s += atBroadcastBatch(a, ai) * atBroadcastBatch(b, bi);
            }
            res[i] = s;
        }
        assertThat(m * n >= 0).isTrue();
        return res;
    }

    private static double atBroadcastBatch(NDArray a, int[] idx) {
        int off = idx.length - a.rank();
        int[] ix = new int[a.rank()];
        for (int i = 0; i < a.rank(); i++) ix[i] = (i < a.rank() - 2 && a.dim(i) == 1) ? 0 : idx[i + off];
        return a.getDouble(ix);
    }

    @Test
    void matmulMatchesNaiveForViewsBatchesAndVectors() {
        int[][][] cases = {
                {{5, 7}, {7, 3}}, {{1, 9}, {9, 1}}, {{2, 4, 6}, {6, 5}}, {{3, 1, 4, 6}, {2, 6, 5}},
                {{4, 6}, {3, 6, 2}}, {{2, 1, 3, 5}, {1, 4, 5, 3}}, {{17, 33}, {33, 19}}, {{1, 1}, {1, 1}}};
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            for (Layout la : Layout.values()) {
                for (Layout lb : new Layout[] {Layout.CONTIGUOUS, Layout.TRANSPOSED, Layout.NARROWED}) {
                    for (int[][] c : cases) {
                        NDArray a = rand(rng, dt, la, c[0]), b = rand(rng, dt, lb, c[1]);
                        NDArray y = ArrayOps.matmul(a, b);
                        Shape batch = Shape.broadcast(Shape.of(Arrays.copyOf(c[0], c[0].length - 2)),
                                Shape.of(Arrays.copyOf(c[1], c[1].length - 2)));
                        int[] os = Arrays.copyOf(batch.toArray(), batch.rank() + 2);
                        os[batch.rank()] = c[0][c[0].length - 2];
                        os[batch.rank() + 1] = c[1][c[1].length - 1];
                        Shape s = Shape.of(os);
                        assertClose(tag("matmul " + dt + " " + la + "/" + lb + " " + a.shape() + "x" + b.shape()), y, s,
                                naiveMatmul(a, b, s), tol(dt) * 10);
                    }
                }
            }
            // 1-D cases
            NDArray v = rand(rng, dt, 7), w = rand(rng, dt, 7), m = rand(rng, dt, 7, 4), mt = rand(rng, dt, 3, 2, 7);
            double dot = 0;
            for (int i = 0; i < 7; i++) dot += v.getDouble(i) * w.getDouble(i);
            assertClose(tag("dot"), ArrayOps.matmul(v, w), Shape.scalar(), new double[] {dot}, tol(dt) * 10);
            assertClose(tag("vec x mat"), ArrayOps.matmul(v, m), Shape.of(4),
                    naiveMatmul(v.unsqueeze(0), m, Shape.of(1, 4)), tol(dt) * 10);
            assertClose(tag("batched mat x vec"), ArrayOps.matmul(mt, v), Shape.of(3, 2),
                    naiveMatmul(mt, v.unsqueeze(-1), Shape.of(3, 2, 1)), tol(dt) * 10);
            assertClose(tag("empty k"), ArrayOps.matmul(rand(rng, dt, 3, 0), rand(rng, dt, 0, 2)), Shape.of(3, 2), new double[6], 0);
        }
        // expanded (stride 0) inner dims need a copy
        NDArray e = NDArray.of(new float[] {1, 2, 3}, 3, 1).expand(3, 4);
        NDArray b = rand(rng, DType.F32, 4, 2);
        assertClose(tag("expanded operand"), ArrayOps.matmul(e, b), Shape.of(3, 2), naiveMatmul(e, b, Shape.of(3, 2)), 1e-5);
    }

    private static double[] naiveSoftmax(NDArray x, int dim, boolean log) {
        int d = x.shape().axis(dim);
        double[] out = new double[x.numel()];
        for (int i = 0; i < out.length; i++) {
            int[] idx = unravel(i, x.shape());
            double mx = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < x.dim(d); j++) {
                idx[d] = j;
                mx = Math.max(mx, x.getDouble(idx));
            }
            double s = 0;
            for (int j = 0; j < x.dim(d); j++) {
                idx[d] = j;
                s += Math.exp(x.getDouble(idx) - mx);
            }
            idx = unravel(i, x.shape());
            double v = x.getDouble(idx);
            out[i] = log ? v - mx - Math.log(s) : Math.exp(v - mx) / s;
        }
        return out;
    }

    @Test
    void softmaxOverAnyDimIsStable() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            for (Layout l : Layout.values()) {
                NDArray x = ArrayOps.mulScalar(rand(rng, dt, l, 4, 5, 37), 1e4);
                for (int d = -3; d < 3; d++) {
                    assertClose(tag("softmax dim " + d + " " + l + " " + dt), ArrayOps.softmax(x, d), x.shape(), naiveSoftmax(x, d, false), tol(dt) * 10);
                    NDArray ls = ArrayOps.logSoftmax(x, d);
                    // log-softmax values inherit the absolute rounding of inputs of size 1e4 (ulp 1e-3 in F32)
                    assertClose(tag("logSoftmax dim " + d + " " + l + " " + dt), ls, x.shape(), naiveSoftmax(x, d, true),
                            dt == DType.F32 ? 2e-3 : tol(dt) * 1e4);
                }
            }
            NDArray small = rand(rng, dt, 3, 29);
            assertClose(tag("logSoftmax moderate " + dt), ArrayOps.logSoftmax(small, 1), small.shape(),
                    naiveSoftmax(small, 1, true), tol(dt) * 10);
            NDArray s = NDArray.scalar(3).to(dt);
            assertThat(ArrayOps.softmax(s, 0).item()).isEqualTo(1.0);
            assertThat(ArrayOps.logSoftmax(s, -1).item()).isEqualTo(0.0);
        }
    }

    /** Documented behaviour: a line of all -Infinity gives NaN (as PyTorch); a partly masked line is fine. */
    @Test
    void softmaxOfAllMinusInfinityRowIsNaN() {
        float ninf = Float.NEGATIVE_INFINITY;
        for (NDArray x : List.of(NDArray.of(new float[] {ninf, ninf, ninf, 1, ninf, 2}, 2, 3),
                NDArray.of(new float[] {ninf, 1, ninf, ninf, ninf, 2}, 3, 2).transpose(0, 1),
                NDArray.of(new double[] {ninf, ninf, ninf, 1, ninf, 2}, 2, 3))) {
            NDArray y = ArrayOps.softmax(x, -1);
            for (int j = 0; j < 3; j++) assertThat(y.getDouble(0, j)).isNaN();
            double e = 1 / (1 + Math.E);
            assertClose("masked row", y.select(0, 1), Shape.of(3), new double[] {e, 0, 1 - e}, 1e-6);
            NDArray ly = ArrayOps.logSoftmax(x, -1);
            assertThat(ly.getDouble(0, 0)).isNaN();
            assertThat(ly.getDouble(1, 1)).isEqualTo(Double.NEGATIVE_INFINITY);
        }
    }

    /**
     * The F32 backward of layerNorm and rmsNorm (SIMD rows, F32 piece sums) against the same
     * backward computed on F64 copies (the double path), with and without weight and bias, strided
     * inputs, rows spread over several pieces.
     */
    @Test
    void normBackwardF32MatchesF64() {
        for (Layout l : Layout.values()) {
            NDArray x = rand(rng, DType.F32, l, 3, 40, 384), g = rand(rng, DType.F32, l, 3, 40, 384);   // [B, T, C]
            NDArray w = rand(rng, DType.F32, 384), b = rand(rng, DType.F32, 384);
            int[] ns = {384};
            for (int variant = 0; variant < 3; variant++) {
                NDArray wv = variant == 2 ? null : w;
                boolean withBias = variant == 0;
                ArrayOps.NormResult r = ArrayOps.layerNorm(x, ns, wv, withBias ? b : null, 1e-5);
                ArrayOps.NormResult r64 = ArrayOps.layerNorm(x.to(DType.F64), ns, wv == null ? null : wv.to(DType.F64),
                        withBias ? b.to(DType.F64) : null, 1e-5);
                ArrayOps.NormGrads got = ArrayOps.layerNormBackward(x, g, r.mean(), r.rstd(), wv, ns, withBias);
                ArrayOps.NormGrads want = ArrayOps.layerNormBackward(x.to(DType.F64), g.to(DType.F64), r64.mean(), r64.rstd(),
                        wv == null ? null : wv.to(DType.F64), ns, withBias);
                assertThat(got.dx().dtype()).isEqualTo(DType.F32);
                assertClose(tag("layerNormBackward dx " + l + " variant " + variant), got.dx(), x.shape(), want.dx().toDoubleArray(), 1e-4);
                if (wv != null) {
                    assertClose(tag("layerNormBackward dw " + l), got.dweight(), Shape.of(384), want.dweight().toDoubleArray(), 1e-3);
                } else {
                    assertThat(got.dweight()).isNull();
                }
                if (withBias) {
                    assertClose(tag("layerNormBackward db " + l), got.dbias(), Shape.of(384), want.dbias().toDoubleArray(), 1e-3);
                } else {
                    assertThat(got.dbias()).isNull();
                }
                ArrayOps.NormResult rr = ArrayOps.rmsNorm(x, ns, wv, 1e-6), rr64 = ArrayOps.rmsNorm(x.to(DType.F64), ns,
                        wv == null ? null : wv.to(DType.F64), 1e-6);
                ArrayOps.NormGrads gotR = ArrayOps.rmsNormBackward(x, g, rr.rstd(), wv, ns);
                ArrayOps.NormGrads wantR = ArrayOps.rmsNormBackward(x.to(DType.F64), g.to(DType.F64), rr64.rstd(),
                        wv == null ? null : wv.to(DType.F64), ns);
                assertClose(tag("rmsNormBackward dx " + l + " variant " + variant), gotR.dx(), x.shape(), wantR.dx().toDoubleArray(), 1e-4);
                if (wv != null) assertClose(tag("rmsNormBackward dw " + l), gotR.dweight(), Shape.of(384), wantR.dweight().toDoubleArray(), 1e-3);
            }
        }
    }

    @Test
    void layerNormAndRmsNormMatchReference() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            for (Layout l : Layout.values()) {
                NDArray x = rand(rng, dt, l, 3, 4, 21);
                for (int k = 1; k <= 2; k++) {
                    int[] ns = k == 1 ? new int[] {21} : new int[] {4, 21};
                    NDArray w = rand(rng, dt, ns), b = rand(rng, dt, ns);
                    int rows = x.numel() / Shape.of(ns).numel(), len = Shape.of(ns).numel();
                    double[] xv = x.toDoubleArray(), wv = w.toDoubleArray(), bv = b.toDoubleArray();
                    double[] ln = new double[xv.length], rn = new double[xv.length], mean = new double[rows], rstd = new double[rows];
                    for (int r = 0; r < rows; r++) {
                        double mu = 0, sq = 0;
                        for (int j = 0; j < len; j++) mu += xv[r * len + j];
                        mu /= len;
                        double var = 0;
                        for (int j = 0; j < len; j++) {
                            var += Math.pow(xv[r * len + j] - mu, 2);
                            sq += xv[r * len + j] * xv[r * len + j];
                        }
                        var /= len;
                        mean[r] = mu;
                        rstd[r] = 1 / Math.sqrt(var + 1e-5);
                        double rr = 1 / Math.sqrt(sq / len + 1e-6);
                        for (int j = 0; j < len; j++) {
                            ln[r * len + j] = (xv[r * len + j] - mu) * rstd[r] * wv[j] + bv[j];
                            rn[r * len + j] = xv[r * len + j] * rr * wv[j];
                        }
                    }
                    ArrayOps.NormResult res = ArrayOps.layerNorm(x, ns, w, b, 1e-5);
                    assertClose(tag("layerNorm k=" + k + " " + l + " " + dt), res.out(), x.shape(), ln, tol(dt) * 10);
                    Shape ss = k == 1 ? Shape.of(3, 4, 1) : Shape.of(3, 1, 1);
                    assertClose(tag("layerNorm mean"), res.mean(), ss, mean, tol(dt) * 10);
                    assertClose(tag("layerNorm rstd"), res.rstd(), ss, rstd, tol(dt) * 10);
                    assertClose(tag("rmsNorm k=" + k + " " + l + " " + dt), ArrayOps.rmsNorm(x, ns, w, 1e-6).out(), x.shape(), rn, tol(dt) * 10);
                }
            }
        }
        NDArray x = rand(rng, DType.F32, 3, 8);
        assertThatThrownBy(() -> ArrayOps.layerNorm(x, new int[] {7}, null, null, 1e-5)).hasMessageContaining("[7]").hasMessageContaining("[3, 8]");
        assertThatThrownBy(() -> ArrayOps.layerNorm(x, new int[] {8}, NDArray.zeros(7), null, 1e-5)).hasMessageContaining("weight");
    }

    @Test
    void embeddingOf16BitTableWidensTheRowsItReads() {
        SplittableRandom rng = new SplittableRandom(3);
        NDArray w = NDArray.normal(rng, Shape.of(7, 5), 0, 1);                      // [V, D] F32
        NDArray idx = NDArray.of(new float[] {6, 0, 3, 3}, 2, 2);                    // [2, 2]
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            NDArray w16 = w.to(dt);
            NDArray got = ArrayOps.embedding(w16, idx);                              // [2, 2, D]
            assertThat(got.dtype()).isEqualTo(DType.F32);
            assertThat(got.shape()).isEqualTo(Shape.of(2, 2, 5));
            assertThat(got.toFloatArray()).isEqualTo(ArrayOps.embedding(w16.to(DType.F32), idx).toFloatArray());
            assertThat(got.toFloatArray()).isNotEqualTo(ArrayOps.embedding(w, idx).toFloatArray());   // rounded, not the F32 rows
        }
    }

    @Test
    void embeddingGathersRowsAndRejectsBadIndices() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            NDArray w = rand(rng, dt, 11, 6);
            NDArray idx = NDArray.of(new float[] {0, 10, 3, 3, 7, 1}, 2, 3);
            NDArray y = ArrayOps.embedding(w, idx);
            double[] exp = new double[36];
            for (int i = 0; i < 6; i++) {
                for (int j = 0; j < 6; j++) exp[i * 6 + j] = w.getDouble((int) idx.toDoubleArray()[i], j);
            }
            assertClose(tag("embedding " + dt), y, Shape.of(2, 3, 6), exp, 0);
            NDArray g = rand(rng, dt, 2, 3, 6);
            NDArray gw = ArrayOps.embeddingBackward(g, idx, 11, 3);
            double[] ge = new double[66];
            double[] gv = g.toDoubleArray(), iv = idx.toDoubleArray();
            for (int i = 0; i < 6; i++) {
                if (iv[i] == 3) continue;
                for (int j = 0; j < 6; j++) ge[(int) iv[i] * 6 + j] += gv[i * 6 + j];
            }
            assertClose(tag("embedding backward"), gw, Shape.of(11, 6), ge, tol(dt));
        }
        NDArray w = rand(rng, DType.F32, 5, 2);
        assertThatThrownBy(() -> ArrayOps.embedding(w, NDArray.of(new float[] {1, 5}, 2)))
                .hasMessageContaining("5.0").hasMessageContaining("position 1").hasMessageContaining("[0, 5)");
        assertThatThrownBy(() -> ArrayOps.embedding(w, NDArray.of(new float[] {1.5f}, 1))).hasMessageContaining("1.5");
    }

    @Test
    void concatSplitChunk() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {          // the compute types (16-bit ones: see Half16Test)
            NDArray a = rand(rng, dt, Layout.TRANSPOSED, 3, 2, 5), b = rand(rng, dt, 3, 4, 5), c = rand(rng, dt, 3, 0, 5);
            NDArray y = ArrayOps.concat(List.of(a, b, c), 1);
            assertThat(y.shape()).isEqualTo(Shape.of(3, 6, 5));
            assertClose(tag("concat part a"), y.narrow(1, 0, 2), a.shape(), a.toDoubleArray(), 0);
            assertClose(tag("concat part b"), y.narrow(1, 2, 4), b.shape(), b.toDoubleArray(), 0);
            List<NDArray> parts = ArrayOps.split(y, 4, 1);
            assertThat(parts).hasSize(2);
            assertThat(parts.get(1).shape()).isEqualTo(Shape.of(3, 2, 5));
            assertClose(tag("split"), ArrayOps.concat(parts, -2), y.shape(), y.toDoubleArray(), 0);
            List<NDArray> ch = ArrayOps.chunk(y, 4, 1);
            assertThat(ch).hasSize(3);
            assertThat(ch.get(0).dim(1)).isEqualTo(2);
        }
        assertThatThrownBy(() -> ArrayOps.concat(List.of(NDArray.zeros(2, 3), NDArray.zeros(3, 3)), 1))
                .hasMessageContaining("array 1").hasMessageContaining("[3, 3]");
        assertThatThrownBy(() -> ArrayOps.split(NDArray.zeros(2, 3), 0, 1)).hasMessageContaining("positive");
    }

    @Test
    void scatterAlongPlacesValuesAtIndices() {
        NDArray x = rand(rng, DType.F64, 4, 6, 3);
        NDArray idx = ArrayOps.argmax(x, 1, true), m = ArrayOps.max(x, 1, true);
        NDArray s = ArrayOps.scatterAlong(x.shape(), 1, idx, m);
        double[] exp = new double[x.numel()];
        for (int i = 0; i < exp.length; i++) {
            int[] ix = unravel(i, x.shape());
            exp[i] = idx.getDouble(ix[0], 0, ix[2]) == ix[1] ? x.getDouble(ix) : 0;
        }
        assertClose(tag("scatterAlong"), s, x.shape(), exp, 0);
    }

    @Test
    void memorySegmentBackedInputsWork() {
        float[] wv = new float[6 * 5];
        for (int i = 0; i < wv.length; i++) wv[i] = (float) rng.nextDouble(-1, 1);
        NDArray seg = NDArray.of(java.lang.foreign.MemorySegment.ofArray(wv.clone()), 6, 5);
        NDArray heap = NDArray.of(wv, 6, 5);
        NDArray x = rand(rng, DType.F32, 3, 6);
        assertClose(tag("matmul with segment"), ArrayOps.matmul(x, seg), Shape.of(3, 5), ArrayOps.matmul(x, heap).toDoubleArray(), 1e-6);
        assertClose(tag("matmul with transposed segment"), ArrayOps.matmul(seg.transpose(0, 1), x.transpose(0, 1)), Shape.of(5, 3),
                ArrayOps.matmul(heap.transpose(0, 1), x.transpose(0, 1)).toDoubleArray(), 1e-6);
        assertClose(tag("add with segment"), ArrayOps.add(seg, heap.select(0, 2)), Shape.of(6, 5),
                ArrayOps.add(heap, heap.select(0, 2)).toDoubleArray(), 0);
        NDArray idx = NDArray.of(new float[] {5, 0, 3}, 3);
        assertClose(tag("embedding from segment"), ArrayOps.embedding(seg, idx), Shape.of(3, 5),
                ArrayOps.embedding(heap, idx).toDoubleArray(), 0);
        assertClose(tag("softmax of segment"), ArrayOps.softmax(seg, -1), Shape.of(6, 5), ArrayOps.softmax(heap, -1).toDoubleArray(), 1e-6);
    }

    @Test
    void addIntoAccumulatesInPlace() {
        NDArray d = rand(rng, DType.F32, 4, 5);
        double[] before = d.toDoubleArray();
        NDArray s = rand(rng, DType.F32, 5);
        ArrayOps.addInto(d, s);
        ArrayOps.addInto(d.transpose(0, 1), NDArray.zeros(5, 4));
        double[] exp = new double[20];
        for (int i = 0; i < 20; i++) exp[i] = before[i] + s.getDouble(i % 5);
        assertClose(tag("addInto"), d, d.shape(), exp, 1e-6);
    }
}
