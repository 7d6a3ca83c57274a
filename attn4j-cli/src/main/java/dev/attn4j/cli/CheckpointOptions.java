package dev.attn4j.cli;

import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.train.Checkpoint;
import java.nio.file.Path;

/** Loading a model for the commands that read a training checkpoint. */
final class CheckpointOptions {
    private CheckpointOptions() {
    }

    /** The model of checkpoint {@code dir}; only the dates task (character vocabulary) exists. */
    static Seq2SeqModel<?> load(Path dir) {
        Checkpoint.Config cfg = Checkpoint.readConfig(dir);
        if (!"dates".equals(cfg.task())) throw new IllegalArgumentException(dir + ": unknown task '" + cfg.task() + "'");
        if (cfg.model().vocabSize() != CharVocab.dates().size()) {
            throw new IllegalArgumentException(dir.resolve(Checkpoint.CONFIG) + ": vocabSize " + cfg.model().vocabSize()
                    + " does not match the dates vocabulary (" + CharVocab.dates().size() + ")");
        }
        return Checkpoint.loadModel(dir);
    }
}
