package dev.attn4j.tokenizers;

import ai.djl.huggingface.tokenizers.jni.CharSpan;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;

/**
 * Test-only reference: the Rust tokenizers library through DJL's JNI binding (its jar bundles
 * the native library, so this runs offline). Uses the raw JNI calls so that no DJL-side defaults
 * (DJL's wrapper turns on truncation and padding) get in the way: the JSON alone configures it.
 */
final class RustOracle implements AutoCloseable {
    /** What the reference returns for one input. */
    record Result(int[] ids, int[] typeIds, String[] tokens, int[][] offsets, int[] attentionMask,
            int[] specialTokensMask, int[] wordIds) {
    }

    private static final TokenizersLibrary LIB;

    static {
        ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus(); // loads the bundled native library
        LIB = TokenizersLibrary.LIB;
    }
    private final long handle;

    RustOracle(String json) {
        handle = LIB.createTokenizerFromString(json);
    }

    Result encode(String text, String pair, boolean addSpecialTokens) {
        long enc = pair == null ? LIB.encode(handle, text, addSpecialTokens)
                : LIB.encodeDual(handle, text, pair, addSpecialTokens);
        try {
            return result(enc);
        } finally {
            LIB.deleteEncoding(enc);
        }
    }

    private static Result result(long enc) {
        {
            CharSpan[] spans = LIB.getTokenCharSpans(enc);
            int[][] offsets = new int[spans.length][];
            for (int i = 0; i < spans.length; i++) {
                // DJL reports null where Rust has no char span (special and padding tokens: (0, 0)).
                offsets[i] = spans[i] == null ? new int[] {0, 0} : new int[] {spans[i].getStart(), spans[i].getEnd()};
            }
            return new Result(ints(LIB.getTokenIds(enc)), ints(LIB.getTypeIds(enc)), LIB.getTokens(enc), offsets,
                    ints(LIB.getAttentionMask(enc)), ints(LIB.getSpecialTokenMask(enc)), ints(LIB.getWordIds(enc)));
        }
    }

    java.util.List<Result> encodeBatch(java.util.List<String> texts, boolean addSpecialTokens) {
        long[] encs = LIB.batchEncode(handle, texts.toArray(new String[0]), addSpecialTokens);
        java.util.List<Result> out = new java.util.ArrayList<>();
        for (long enc : encs) {
            try {
                out.add(result(enc));
            } finally {
                LIB.deleteEncoding(enc);
            }
        }
        return out;
    }

    String decode(int[] ids, boolean skipSpecial) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return LIB.decode(handle, l, skipSpecial);
    }

    private static int[] ints(long[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (int) a[i];
        }
        return r;
    }

    @Override
    public void close() {
        LIB.deleteTokenizer(handle);
    }
}
