package dev.attn4j.attention;

import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which keys each query may attend to, with the polarity fixed by the factory that built it, so
 * a mask can never be read the wrong way round.
 *
 * <table>
 * <caption>Factories and their PyTorch counterparts</caption>
 * <tr><th>factory</th><th>an element x means</th><th>PyTorch equivalent</th></tr>
 * <tr><td>{@link #allowed(NDArray)}</td><td>x != 0: the query MAY attend to the key</td>
 *     <td>boolean {@code attn_mask} of {@code F.scaled_dot_product_attention}</td></tr>
 * <tr><td>{@link #blocked(NDArray)}</td><td>x != 0: the key is MASKED OUT</td>
 *     <td>boolean {@code attn_mask} and {@code key_padding_mask} of {@code nn.MultiheadAttention}</td></tr>
 * <tr><td>{@link #additive(NDArray)}</td><td>x is added to the score; -infinity blocks</td>
 *     <td>float masks of both</td></tr>
 * <tr><td>{@link #causal()}</td><td>query i may attend to keys j &lt;= i (top-left aligned)</td>
 *     <td>{@code is_causal=True} of SDPA, {@code tril(ones(L, S))}</td></tr>
 * <tr><td>{@link #causalBottomRight()}</td><td>query i may attend to keys j &lt;= i + S - L</td>
 *     <td>{@code causal_lower_right}</td></tr>
 * </table>
 *
 * <p>Dense masks broadcast against the scores {@code [..., L, S]} (trailing dimensions aligned).
 * Masks combine with {@link #and}: a key is blocked if any part blocks it, and additive values
 * add up. Additive values must not be NaN or +infinity.
 *
 * <p><b>Fully masked rows.</b> A query whose keys are all blocked (every score -infinity) gets
 * attention weights 0 and output 0, and passes no gradient, instead of PyTorch's NaN.
 */
public final class AttentionMask {
    /** One component of a mask. */
    sealed interface Part permits Dense, Causal {
    }

    /** Additive values (F64, the user's shape): 0 keeps a score, -inf blocks it. */
    record Dense(NDArray bias) implements Part {
    }

    /** Keys j &lt;= i + offset are allowed, offset 0 (top-left) or S - L (bottom-right). */
    record Causal(boolean bottomRight) implements Part {
        int offset(int queries, int keys) {
            return bottomRight ? keys - queries : 0;
        }
    }

    private static final AttentionMask NONE = new AttentionMask(List.of());

    private final List<Part> parts;

    private AttentionMask(List<Part> parts) {
        this.parts = List.copyOf(parts);
    }

    /** No masking. */
    public static AttentionMask none() {
        return NONE;
    }

    /** Nonzero elements mark keys the query MAY attend to; zero blocks (SDPA's boolean mask). */
    public static AttentionMask allowed(NDArray mask) {
        return dense("allowed", mask, true);
    }

    /** Nonzero elements mark keys that are MASKED OUT; zero allows (nn.MultiheadAttention's boolean masks). */
    public static AttentionMask blocked(NDArray mask) {
        return dense("blocked", mask, false);
    }

    /** Values added to the attention scores before the softmax; -infinity blocks a key. */
    public static AttentionMask additive(NDArray mask) {
        check("additive", mask);
        NDArray bias = mask.to(DType.F64);
        double[] b = bias.doubleArray();
        for (int i = 0; i < b.length; i++) {
            if (Double.isNaN(b[i]) || b[i] == Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("additive attention mask of shape " + mask.shape() + " holds " + b[i]
                        + " at flat index " + i + "; only finite values and -infinity are allowed");
            }
        }
        return new AttentionMask(List.of(new Dense(bias)));
    }

    /** Top-left aligned causal mask: query i attends to keys 0..i (PyTorch SDPA's is_causal). */
    public static AttentionMask causal() {
        return new AttentionMask(List.of(new Causal(false)));
    }

    /** Bottom-right aligned causal mask: query i attends to keys 0..i + S - L (the last query sees every key). */
    public static AttentionMask causalBottomRight() {
        return new AttentionMask(List.of(new Causal(true)));
    }

    /** All given masks at once (a key is blocked if any blocks it; additive values add). */
    public static AttentionMask all(AttentionMask... masks) {
        List<Part> p = new ArrayList<>();
        for (AttentionMask m : masks) {
            if (m == null) throw new IllegalArgumentException("AttentionMask.all: mask is null");
            p.addAll(m.parts);
        }
        return new AttentionMask(p);
    }

    /** This mask and {@code other} together. */
    public AttentionMask and(AttentionMask other) {
        return all(this, other);
    }

    /** True when nothing is masked. */
    public boolean isEmpty() {
        return parts.isEmpty();
    }

    List<Part> parts() {
        return parts;
    }

    private static void check(String kind, NDArray mask) {
        if (mask == null) throw new IllegalArgumentException("AttentionMask." + kind + ": mask array is null");
        if (mask.rank() == 0) {
            throw new IllegalArgumentException("AttentionMask." + kind + ": mask must have at least one dimension (keys), got a scalar");
        }
    }

    private static AttentionMask dense(String kind, NDArray mask, boolean nonzeroAllows) {
        check(kind, mask);
        double[] v = mask.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            boolean allow = (v[i] != 0) == nonzeroAllows;
            v[i] = allow ? 0 : Double.NEGATIVE_INFINITY;
        }
        return new AttentionMask(List.of(new Dense(NDArray.of(v, mask.shape().toArray()))));
    }

    // ---------------------------------------------------------------- resolution

    /**
     * Checks that every dense part broadcasts to {@code scores} (shape [..., L, S]); throws naming
     * {@code what}, the mask shape and the scores shape otherwise.
     */
    void checkFits(String what, Shape scores) {
        for (Part p : parts) {
            if (p instanceof Dense d && !d.bias.shape().broadcastableTo(scores)) {
                throw new IllegalArgumentException(what + " of shape " + d.bias.shape()
                        + " cannot be broadcast to the attention scores " + scores + " ([..., L, S])");
            }
        }
    }

    /**
     * The mask as one additive array of {@code dtype} (0 or -infinity or the additive values),
     * broadcastable to scores [..., queries, keys]: the broadcast of the dense parts, and
     * [queries, keys] when there is a causal part. Null when there are no parts.
     */
    public NDArray toAdditive(DType dtype, int queries, int keys) {
        if (parts.isEmpty()) return null;
        NDArray sum = null;
        for (Part p : parts) {
            NDArray b = switch (p) {
                case Dense d -> d.bias;
                case Causal c -> causalBias(queries, keys, c.offset(queries, keys));
            };
            sum = sum == null ? b : ArrayOps.add(sum, b);
        }
        return sum.to(dtype);
    }

    static NDArray causalBias(int queries, int keys, int offset) {
        double[] v = new double[queries * keys];
        for (int i = 0; i < queries; i++) {
            for (int j = Math.max(0, i + offset + 1); j < keys; j++) v[i * keys + j] = Double.NEGATIVE_INFINITY;
        }
        return NDArray.of(v, queries, keys);
    }

    /**
     * A key padding mask [B, S] as a mask on scores of rank {@code scoreRank}: [B, 1, ..., 1, S].
     * Causal parts make no sense here and are rejected.
     */
    AttentionMask asKeyPadding(int scoreRank) {
        List<Part> out = new ArrayList<>();
        for (Part p : parts) {
            if (!(p instanceof Dense d)) {
                throw new IllegalArgumentException("key padding mask must be built from a [B, S] array, not a causal mask");
            }
            if (d.bias.rank() != 2) {
                throw new IllegalArgumentException("key padding mask must have shape [B, S], got " + d.bias.shape());
            }
            if (scoreRank < 3) {
                throw new IllegalArgumentException("key padding mask [B, S] needs batched inputs (query of rank >= 3), "
                        + "the scores have rank " + scoreRank);
            }
            int[] dims = new int[scoreRank];
            Arrays.fill(dims, 1);
            dims[0] = d.bias.dim(0);
            dims[scoreRank - 1] = d.bias.dim(1);
            out.add(new Dense(d.bias.reshape(dims)));                         // [B, 1, ..., 1, S]
        }
        return new AttentionMask(out);
    }

    /**
     * This mask with {@code count} more keys appended at the end that every query may attend to
     * (what nn.MultiheadAttention does for add_bias_kv and add_zero_attn). Causal parts are made
     * dense over [queries, keys] first.
     */
    public AttentionMask appendAllowedKeys(int count, int queries, int keys) {
        if (count < 0) throw new IllegalArgumentException("appendAllowedKeys: count must be >= 0, got " + count);
        List<Part> out = new ArrayList<>();
        for (Part p : parts) {
            NDArray b = switch (p) {
                case Dense d -> d.bias;
                case Causal c -> causalBias(queries, keys, c.offset(queries, keys));
            };
            if (b.dim(-1) == 1 && keys != 1) {                                // broadcasts over keys already
                out.add(new Dense(b));
                continue;
            }
            int[] padShape = b.shape().toArray();
            padShape[padShape.length - 1] = count;
            NDArray pad = NDArray.zeros(DType.F64, Shape.of(padShape));
            out.add(new Dense(ArrayOps.concat(List.of(b, pad), -1)));         // [..., S + count]
        }
        return new AttentionMask(out);
    }

    /**
     * nn.MultiheadAttention's attn_mask conventions: a 2-D part is (L, S) (broadcast over batch
     * and heads), a 3-D part (N * num_heads, L, S) becomes [N, H, L, S].
     */
    AttentionMask splitBatchHeads(int n, int heads, int queries, int keys) {
        List<Part> out = new ArrayList<>();
        for (Part p : parts) {
            if (p instanceof Dense d) {
                NDArray b = d.bias;
                String expected = "expected (L, S) = (" + queries + ", " + keys + ") or (N * num_heads, L, S) = ("
                        + n * heads + ", " + queries + ", " + keys + ")";
                if (b.rank() == 2 && b.shape().broadcastableTo(Shape.of(queries, keys))) {
                    out.add(d);
                } else if (b.rank() == 3 && b.dim(0) == n * heads && b.shape().numel(1, 3) > 0
                        && Shape.of(b.dim(1), b.dim(2)).broadcastableTo(Shape.of(queries, keys))) {
                    out.add(new Dense(b.reshape(n, heads, b.dim(1), b.dim(2))));      // [N, H, L, S]
                } else {
                    throw new IllegalArgumentException("attn_mask of shape " + b.shape() + " does not fit: " + expected);
                }
            } else {
                out.add(p);
            }
        }
        return new AttentionMask(out);
    }

    /** An unbatched key padding mask [S] as [1, S]. */
    AttentionMask unsqueezeUnbatched(int keys) {
        List<Part> out = new ArrayList<>();
        for (Part p : parts) {
            if (p instanceof Dense d && d.bias.rank() == 1 && d.bias.dim(0) == keys) out.add(new Dense(d.bias.reshape(1, keys)));
            else throw new IllegalArgumentException("key_padding_mask for unbatched input must have shape [" + keys + "], got "
                    + (p instanceof Dense d ? d.bias.shape().toString() : "a causal mask"));
        }
        return new AttentionMask(out);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("AttentionMask[");
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) sb.append(", ");
            sb.append(switch (parts.get(i)) {
                case Dense d -> "dense " + d.bias.shape();
                case Causal c -> c.bottomRight ? "causal bottom-right" : "causal";
            });
        }
        return sb.append(']').toString();
    }
}
