package dev.attn4j.models.seq2seq;

/**
 * Sizes of a sequence-to-sequence model (saved as JSON in checkpoints).
 *
 * @param arch           the architecture
 * @param vocabSize      tokens in the (shared source/target) vocabulary
 * @param dModel         Transformer width, or the GRU models' embedding size
 * @param heads          attention heads (Transformer)
 * @param encoderLayers  encoder layers (Transformer)
 * @param decoderLayers  decoder layers (Transformer)
 * @param dimFeedforward feed-forward width (Transformer)
 * @param hidden         GRU hidden size (and additive-attention width)
 * @param dropout        dropout probability (0 keeps training bit-for-bit resumable)
 * @param tieEmbeddings  output projection shares the target embedding matrix
 * @param maxSourceLen   longest source the positional table covers
 * @param maxTargetLen   longest output decoding produces (EOS not counted)
 */
public record Seq2SeqConfig(Arch arch, int vocabSize, int dModel, int heads, int encoderLayers, int decoderLayers,
                            int dimFeedforward, int hidden, double dropout, boolean tieEmbeddings, int maxSourceLen,
                            int maxTargetLen) {
    public Seq2SeqConfig {
        if (arch == null) throw new IllegalArgumentException("model config: arch is missing");
        if (vocabSize <= 4 || dModel <= 0 || hidden <= 0 || maxSourceLen <= 0 || maxTargetLen <= 0) {
            throw new IllegalArgumentException("model config: vocabSize (" + vocabSize + ") must be > 4 and dModel (" + dModel
                    + "), hidden (" + hidden + "), maxSourceLen (" + maxSourceLen + "), maxTargetLen (" + maxTargetLen
                    + ") positive");
        }
        if (arch == Arch.TRANSFORMER && (heads <= 0 || dModel % heads != 0 || encoderLayers <= 0 || decoderLayers <= 0
                || dimFeedforward <= 0)) {
            throw new IllegalArgumentException("model config: a transformer needs dModel (" + dModel + ") divisible by heads ("
                    + heads + ") and positive layer counts (" + encoderLayers + ", " + decoderLayers + ") and dimFeedforward ("
                    + dimFeedforward + ")");
        }
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("model config: dropout must be in [0, 1), got " + dropout);
    }

    /** The defaults for the dates task: d_model 128, 4 heads, 2 + 2 layers, FF 256; GRU: embedding 64, hidden 128. */
    public static Seq2SeqConfig defaults(Arch arch, int vocabSize) {
        return switch (arch) {
            case TRANSFORMER -> new Seq2SeqConfig(arch, vocabSize, 128, 4, 2, 2, 256, 128, 0.0, true, 64, 16);
            case GRU_BAHDANAU, GRU_LUONG -> new Seq2SeqConfig(arch, vocabSize, 64, 1, 1, 1, 1, 128, 0.0, false, 64, 16);
        };
    }

    public Seq2SeqConfig withSizes(int dModel, int heads, int layers, int dimFeedforward, int hidden) {
        return new Seq2SeqConfig(arch, vocabSize, dModel, heads, layers, layers, dimFeedforward, hidden, dropout, tieEmbeddings,
                maxSourceLen, maxTargetLen);
    }
}
