package dev.attn4j.train;

import dev.attn4j.models.seq2seq.Batch;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tasks.DatesTask;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Training batches and held-out sets of the dates task. */
public final class DatesData {
    public static final String TASK = "dates";

    private DatesData() {
    }

    /** The generator of training batch {@code step} (from 1) of a run seeded {@code seed}. */
    public static SplittableRandom batchRng(long seed, long step) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
    }

    /** Training batch {@code step} of a run seeded {@code seed}. */
    public static Batch trainBatch(CharVocab vocab, long seed, long step, int size) {
        SplittableRandom rng = batchRng(seed, step);
        List<int[]> src = new ArrayList<>(size), tgt = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            DatesTask.Example ex = DatesTask.sample(rng);
            src.add(vocab.encode(ex.source()));
            tgt.add(vocab.encode(ex.target()));
        }
        return Batch.of(src, tgt);
    }
}
