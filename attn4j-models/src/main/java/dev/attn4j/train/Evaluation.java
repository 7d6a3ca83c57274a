package dev.attn4j.train;

import dev.attn4j.generate.Greedy;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tasks.DatesTask;
import java.util.ArrayList;
import java.util.List;

/** Exact-match evaluation with batched greedy decoding. */
public final class Evaluation {
    private static final int CHUNK = 250;

    private Evaluation() {
    }

    /** The fraction of {@code examples} whose greedy output equals the target exactly. */
    public static double exactMatch(Seq2SeqModel<?> model, CharVocab vocab, List<DatesTask.Example> examples) {
        if (examples.isEmpty()) throw new IllegalArgumentException("exact match of an empty set");
        boolean training = model.isTraining();
        model.eval();
        try {
            int correct = 0;
            for (int from = 0; from < examples.size(); from += CHUNK) {
                List<DatesTask.Example> part = examples.subList(from, Math.min(examples.size(), from + CHUNK));
                List<int[]> sources = new ArrayList<>(part.size());
                for (DatesTask.Example ex : part) sources.add(vocab.encode(ex.source()));
                List<int[]> outputs = Greedy.decode(model, sources, model.config().maxTargetLen());
                for (int i = 0; i < part.size(); i++) {
                    if (vocab.decode(outputs.get(i)).equals(part.get(i).target())) correct++;
                }
            }
            return (double) correct / examples.size();
        } finally {
            model.train(training);
        }
    }
}
