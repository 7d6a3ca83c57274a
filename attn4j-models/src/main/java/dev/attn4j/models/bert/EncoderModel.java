package dev.attn4j.models.bert;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;

import java.util.List;

/**
 * A BERT-family encoder ({@link BertModel} for BERT / RoBERTa / XLM-R, {@link DistilBertModel}):
 * token ids in, contextual embeddings out. The same module trains (grad mode on, {@code train()},
 * dropout active) and runs inference ({@code eval()} inside {@code GradMode.noGrad()}, fused
 * attention). A model loaded with {@link BertModels#load} keeps its checkpoint memory-mapped
 * until {@link #close()}.
 */
public abstract class EncoderModel extends Module implements AutoCloseable {
    protected final BertConfig config;
    private volatile AutoCloseable resources;
    private volatile LoadReport loadReport;

    protected EncoderModel(BertConfig config) {
        this.config = config;
    }

    /** The configuration the model was built from. */
    public final BertConfig config() {
        return config;
    }

    /** Width C of the hidden states. */
    public final int hiddenSize() {
        return config.hiddenSize();
    }

    /**
     * Declares this model's weights final: from here on they are only read, for inference. A model
     * with a fast inference path then prepares its weights for it once instead of on every call
     * ({@link BertModel} packs each linear weight for the GEMM at its first use: a 16-token forward
     * spends most of its GEMM time packing otherwise); this default does nothing. Changing a weight
     * after freezing gives wrong results until {@link #unfreeze}; switching to training mode
     * unfreezes. Returns this.
     */
    public EncoderModel freeze() {
        return this;
    }

    /** Drops what {@link #freeze} prepared; the weights may change again. */
    public void unfreeze() {
    }

    /** Runs the encoder: last hidden state [B, T, C] and the pooler output when there is a pooler. */
    public final EncoderOutput forward(EncoderInput in) {
        return forward(in, false, false);
    }

    /**
     * Runs the encoder. {@code outputHiddenStates} adds the embeddings and each layer's output;
     * {@code outputAttentions} adds each layer's weights [B, H, T, T] (and takes the unfused
     * attention path, which materialises them).
     */
    public abstract EncoderOutput forward(EncoderInput in, boolean outputHiddenStates, boolean outputAttentions);

    /**
     * Inference: the last hidden state of the real tokens only (attention mask 1), packed input
     * after input. Each row is the one {@link #forward} computes at that position. Models with a
     * packed fast path ({@link BertModel} in eval mode with no gradients recorded) never compute
     * padding rows: each input's tokens attend to its own tokens only, the mask's effect without
     * the work; this default runs {@link #forward} and copies the real rows out.
     */
    public PackedHiddenStates forwardPacked(EncoderInput in) {
        NDArray h = forward(in).lastHiddenState().data().contiguous();             // [B, T, C]
        int b = in.batchSize(), c = hiddenSize();
        int[] offsets = realRowOffsets(in);
        float[] out = new float[offsets[b] * c];
        copyRealRows(in, h.floatArray(), h.offset(), c, out);
        return new PackedHiddenStates(out, offsets, c);
    }

    /** The rows of [B, T, C] at src[srcOff] whose mask is 1, one after another into dst from 0. */
    static void copyRealRows(EncoderInput in, float[] src, int srcOff, int c, float[] dst) {
        int b = in.batchSize(), t = in.length(), row = 0;
        int[][] mask = in.attentionMask();
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                if (mask == null || mask[i][j] != 0) System.arraycopy(src, srcOff + (i * t + j) * c, dst, row++ * c, c);
            }
        }
    }

    /** 0, then the running totals of the inputs' real lengths (B + 1 entries). */
    static int[] realRowOffsets(EncoderInput in) {
        int[] offsets = new int[in.batchSize() + 1];
        for (int i = 0; i < in.batchSize(); i++) offsets[i + 1] = offsets[i] + in.realLength(i);
        return offsets;
    }

    /** Whether the model has a pooler (BERT's tanh(dense([CLS]))). */
    public abstract boolean hasPooler();

    /** How the weights were loaded, or null for a model built in memory. */
    public final LoadReport loadReport() {
        return loadReport;
    }

    /** Ties the lifetime of a memory-mapped checkpoint to this model (used by the loader). */
    final void attach(AutoCloseable checkpoint, LoadReport report) {
        this.resources = checkpoint;
        this.loadReport = report;
    }

    /** Unmaps the checkpoint, if the model was loaded from one; the model must not be used afterwards. */
    @Override
    public void close() {
        AutoCloseable r = resources;
        resources = null;
        if (r != null) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the checkpoint of " + getClass().getSimpleName() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Transformers' extended attention mask for key padding: [B, S] with 0 for real tokens and
     * the float32 minimum (-3.4028235e38) for padding, added to the scores; none when nothing is
     * padded.
     */
    static AttentionMask keyPaddingMask(EncoderInput in) {
        if (!in.hasPadding()) return AttentionMask.none();
        NDArray m = in.maskArray();                                                 // [B, S] of 0/1
        float[] a = m.floatArray();
        for (int i = 0; i < a.length; i++) a[i] = a[i] != 0 ? 0f : -Float.MAX_VALUE;
        return AttentionMask.additive(m);                                          // [B, S] additive
    }

    /**
     * What the loader found.
     *
     * @param checkpoint   path of the weights (file or index)
     * @param prefix       key prefix of the encoder in the checkpoint ("" or e.g. "bert.")
     * @param ignoredKeys  checkpoint keys that were deliberately not used (heads, position_ids, ...)
     * @param sourceDTypes the stored dtypes of the weights, e.g. [F32] or [F16]
     */
    public record LoadReport(String checkpoint, String prefix, List<String> ignoredKeys, List<String> sourceDTypes) {
    }
}
