package dev.attn4j.explain;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.bert.BertEmbeddings;
import dev.attn4j.models.bert.BertModel;
import dev.attn4j.models.bert.DistilBertModel;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.models.bert.EncoderModel;
import dev.attn4j.models.bert.EncoderOutput;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tokenizers.Encoding;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-token attributions of a sequence classifier's decision ({@code *ForSequenceClassification}),
 * computed in eval mode (dropout off), the model's state left as it was found.
 *
 * <p><b>Gradient x input</b> (Shrikumar et al. 2016; Captum's {@code InputXGradient} on
 * transformers' {@code inputs_embeds}): the gradient of the explained label's logit with respect
 * to the output of {@code embeddings.word_embeddings}, times that output, summed over the hidden
 * dimension: one signed score per token. The input is the word embeddings alone, not their sum with
 * the position and token-type embeddings: those do not depend on which token stands at a position,
 * so they carry no information about the words, and the word embeddings are what
 * {@code inputs_embeds} replaces in transformers (and what Captum's BERT tutorials and the saliency
 * literature, e.g. Wallace et al. 2019 "AllenNLP Interpret", attribute to). The gradient is the
 * same for both (the sum passes it through unchanged); only the factor differs.
 *
 * <p><b>Attention rollout</b> (Abnar and Zuidema 2020, "Quantifying Attention Flow in
 * Transformers"): each layer's attention weights averaged over the heads, plus the identity for the
 * residual connection, rows renormalised to sum to 1 ({@code 0.5 W + 0.5 I}); the layers' matrices
 * multiplied from the first to the last ({@code Ã_L ⋯ Ã_1}); a token's score is its entry in the
 * row of the first token ({@code [CLS]} / {@code <s>}, the one the classification head reads).
 * Padding is masked out (only the real tokens' rows and columns take part; real queries give
 * padding keys zero weight). The row is computed as {@code e_0ᵀ Ã_L ⋯ Ã_1} from the left, which is
 * the same product without forming the whole T x T matrix.
 */
public final class Explainer {
    private Explainer() {
    }

    /**
     * Attributions for a padded batch.
     *
     * @param labels           the label explained for each row
     * @param logits           [B][num_labels] the model's logits
     * @param gradientXInput   [B][T] gradient x input, 0 at padding positions
     * @param attentionRollout [B][T] attention rollout, 0 at padding positions
     */
    public record Attributions(int[] labels, float[][] logits, double[][] gradientXInput, double[][] attentionRollout) {
    }

    /** Explains the predicted label (the largest logit) of one encoded text (or text pair). */
    public static Explanation explain(EncoderClassifier model, Encoding encoding) {
        return explain(model, encoding, -1);
    }

    /**
     * Explains {@code label} (an index into the model's {@code id2label}; -1 for the predicted one)
     * for one encoded text or text pair. Padding tokens of the encoding are left out of the result.
     */
    public static Explanation explain(EncoderClassifier model, Encoding encoding, int label) {
        int[] mask = encoding.attentionMask();
        int[] typeIds = model.config().typeVocabSize() > 0 ? encoding.typeIds() : null;
        if (encoding.length() == 0) throw new IllegalArgumentException("explain: the encoding has no tokens");
        EncoderInput in = new EncoderInput(new int[][] {encoding.ids()}, new int[][] {mask},
                typeIds == null ? null : new int[][] {typeIds});
        Attributions a = attribute(model, in, label < 0 ? null : new int[] {label});
        List<String> allTokens = encoding.tokens();
        int[][] allOffsets = encoding.offsets();
        int[] specialMask = encoding.specialTokensMask();
        List<String> tokens = new ArrayList<>();
        List<int[]> offsets = new ArrayList<>();
        int n = 0;
        for (int m : mask) n += m;
        boolean[] special = new boolean[n];
        double[] gxi = new double[n], rollout = new double[n];
        for (int t = 0, k = 0; t < mask.length; t++) {
            if (mask[t] == 0) continue;
            tokens.add(allTokens.get(t));
            offsets.add(allOffsets[t]);
            special[k] = specialMask[t] != 0;
            gxi[k] = a.gradientXInput()[0][t];
            rollout[k] = a.attentionRollout()[0][t];
            k++;
        }
        int l = a.labels()[0];
        return new Explanation(tokens, offsets.toArray(int[][]::new), special, l, model.head().id2label().get(l),
                a.logits()[0][l], gxi, rollout);
    }

    /**
     * Gradient x input and attention rollout for every row of a batch; {@code labels} gives the
     * label to explain per row, or is null for each row's predicted label (its largest logit).
     * Rows must not be left-padded: the head reads position 0. For the duration of the call the
     * model is in eval mode and its parameters do not require grad (so no parameter gradient is
     * computed or accumulated); both are restored after, so the model must not be used by another
     * thread meanwhile.
     */
    public static Attributions attribute(EncoderClassifier model, EncoderInput in, int[] labels) {
        if (model.tokenLevel()) {
            throw new IllegalArgumentException("explain needs a sequence classification model; " + model.architecture()
                    + " labels every token");
        }
        int b = in.batchSize(), t = in.length(), numLabels = model.numLabels();
        if (labels != null && labels.length != b) {
            throw new IllegalArgumentException("explain: " + labels.length + " labels for a batch of " + b);
        }
        int[][] mask = in.attentionMask();
        for (int r = 0; r < b; r++) {
            if (mask != null && mask[r][0] == 0) {
                throw new IllegalArgumentException("explain: row " + r + " is padded on the left (position 0 is padding), "
                        + "but the classification head reads position 0; pad on the right");
            }
        }
        EncoderModel encoder = model.encoder();
        BertEmbeddings embeddings = embeddingsOf(encoder);
        boolean training = model.isTraining();
        List<Tensor> params = model.parameters();
        boolean[] requiresGrad = new boolean[params.size()];
        for (int i = 0; i < requiresGrad.length; i++) requiresGrad[i] = params.get(i).requiresGrad();
        model.eval();
        try {
            for (Tensor p : params) p.requiresGrad(false);                         // only the embeddings' gradient is wanted
            Tensor[] inputsEmbeds = new Tensor[1];
            float[][] logits = new float[b][];
            int[] target = new int[b];
            double[][] gxi = new double[b][t];
            try (var g = GradMode.enableGrad()) {
                Tensor out = embeddings.withWordEmbeddingsHook(x -> {
                    inputsEmbeds[0] = x.detach().requiresGrad(true);               // [B, T, C], transformers' inputs_embeds
                    return inputsEmbeds[0];
                }, () -> model.forward(in));                                       // [B, L]
                if (inputsEmbeds[0] == null) throw new IllegalStateException("the word embeddings were not computed");
                float[] lg = out.data().contiguous().toFloatArray();
                float[] seed = new float[b * numLabels];
                for (int r = 0; r < b; r++) {
                    logits[r] = java.util.Arrays.copyOfRange(lg, r * numLabels, (r + 1) * numLabels);
                    target[r] = labels == null ? argmax(logits[r]) : labels[r];
                    if (target[r] < 0 || target[r] >= numLabels) {
                        throw new IllegalArgumentException("explain: label " + target[r] + " of row " + r + " is out of range [0, "
                                + numLabels + ")");
                    }
                    seed[r * numLabels + target[r]] = 1;                           // d(sum of the rows' target logits)
                }
                out.backward(NDArray.of(seed, b, numLabels));
                NDArray e = inputsEmbeds[0].data().contiguous();                   // [B, T, C]
                NDArray grad = inputsEmbeds[0].grad();                             // [B, T, C]
                float[] ev = e.toFloatArray();
                float[] gv = grad == null ? new float[ev.length] : grad.contiguous().toFloatArray();
                int c = e.dim(2);
                for (int r = 0; r < b; r++) {
                    for (int i = 0; i < t; i++) {
                        if (mask != null && mask[r][i] == 0) continue;
                        double s = 0;
                        int o = (r * t + i) * c;
                        for (int k = 0; k < c; k++) s += (double) ev[o + k] * gv[o + k];
                        gxi[r][i] = s;
                    }
                }
            }
            double[][] rollout;
            try (var g = GradMode.noGrad()) {
                EncoderOutput o = encoder.forward(in, false, true);
                rollout = rollout(o.attentions(), mask, b, t);
            }
            return new Attributions(target, logits, gxi, rollout);
        } finally {
            for (int i = 0; i < requiresGrad.length; i++) params.get(i).requiresGrad(requiresGrad[i]);
            model.train(training);
        }
    }

    /** Attention rollout of each row from the layers' weights [B, H, T, T]; 0 at padding. */
    static double[][] rollout(List<Tensor> attentions, int[][] mask, int b, int t) {
        if (attentions == null || attentions.isEmpty()) throw new IllegalStateException("the encoder returned no attention weights");
        int layers = attentions.size();
        float[][] w = new float[layers][];
        int h = attentions.get(0).dim(1);
        for (int l = 0; l < layers; l++) {
            NDArray a = attentions.get(l).data().contiguous();                     // [B, H, T, T]
            if (a.rank() != 4 || a.dim(0) != b || a.dim(1) != h || a.dim(2) != t || a.dim(3) != t) {
                throw new IllegalStateException("layer " + l + " attention weights have shape " + a.shape() + ", expected ["
                        + b + ", " + h + ", " + t + ", " + t + "]");
            }
            w[l] = a.toFloatArray();
        }
        double[][] out = new double[b][t];
        for (int r = 0; r < b; r++) {
            int[] idx = realPositions(mask == null ? null : mask[r], t);
            int n = idx.length;
            double[] row = new double[n];
            row[0] = 1;                                                            // e_0: the first token's row
            double[] a = new double[n * n];
            for (int l = layers - 1; l >= 0; l--) {                                // e_0ᵀ Ã_L ⋯ Ã_1
                augmented(w[l], r, h, t, idx, a);
                double[] next = new double[n];
                for (int i = 0; i < n; i++) {
                    double ri = row[i];
                    if (ri == 0) continue;
                    for (int j = 0; j < n; j++) next[j] += ri * a[i * n + j];
                }
                row = next;
            }
            for (int k = 0; k < n; k++) out[r][idx[k]] = row[k];
        }
        return out;
    }

    /** Ã = rows-renormalised (head-mean of W + I) over the real positions {@code idx}, into a [n, n]. */
    private static void augmented(float[] w, int r, int h, int t, int[] idx, double[] a) {
        int n = idx.length;
        java.util.Arrays.fill(a, 0);
        for (int head = 0; head < h; head++) {
            int base = (r * h + head) * t * t;
            for (int i = 0; i < n; i++) {
                int q = base + idx[i] * t;
                for (int j = 0; j < n; j++) a[i * n + j] += w[q + idx[j]];
            }
        }
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                a[i * n + j] /= h;
                if (i == j) a[i * n + j] += 1;                                     // the residual connection
                sum += a[i * n + j];
            }
            for (int j = 0; j < n; j++) a[i * n + j] /= sum;
        }
    }

    private static int[] realPositions(int[] mask, int t) {
        int n = 0;
        for (int i = 0; i < t; i++) if (mask == null || mask[i] != 0) n++;
        int[] idx = new int[n];
        for (int i = 0, k = 0; i < t; i++) if (mask == null || mask[i] != 0) idx[k++] = i;
        return idx;
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static BertEmbeddings embeddingsOf(EncoderModel encoder) {
        if (encoder instanceof BertModel m) return m.embeddings;
        if (encoder instanceof DistilBertModel m) return m.embeddings;
        throw new IllegalArgumentException("explain: unsupported encoder " + encoder.getClass().getSimpleName());
    }
}
