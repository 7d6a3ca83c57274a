package dev.attn4j.cli;

import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.train.Checkpoint;
import dev.attn4j.train.DatesData;
import dev.attn4j.train.TranslationData;
import dev.attn4j.train.TranslationTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Loading a model, and the text codec of its task, for the commands that read a training checkpoint. */
final class CheckpointOptions {
    private CheckpointOptions() {
    }

    /** Text to ids and back for a checkpoint's vocabulary: characters (dates) or its tokenizer (translation). */
    interface Codec {
        /** The source ids of {@code text} (no special tokens). */
        int[] encode(String text);

        /** The text of output ids (up to EOS). */
        String decode(int[] ids);

        /** A short printable label of one id (spaces as '_' in subword labels; at most 12 characters). */
        String token(int id);
    }

    /** The model of checkpoint {@code dir} (task dates or translation). */
    static Seq2SeqModel<?> load(Path dir) {
        Checkpoint.Config cfg = Checkpoint.readConfig(dir);
        if (DatesData.TASK.equals(cfg.task())) {
            if (cfg.model().vocabSize() != CharVocab.dates().size()) {
                throw new IllegalArgumentException(dir.resolve(Checkpoint.CONFIG) + ": vocabSize " + cfg.model().vocabSize()
                        + " does not match the dates vocabulary (" + CharVocab.dates().size() + ")");
            }
        } else if (!TranslationTrainer.TASK.equals(cfg.task())) {
            throw new IllegalArgumentException(dir + ": unknown task '" + cfg.task() + "'");
        }
        return Checkpoint.loadModel(dir);
    }

    /** The codec of checkpoint {@code dir}'s task. */
    static Codec codec(Path dir) throws IOException {
        String task = Checkpoint.readConfig(dir).task();
        if (DatesData.TASK.equals(task)) {
            CharVocab v = CharVocab.dates();
            return new Codec() {
                @Override
                public int[] encode(String text) {
                    return v.encode(text);
                }

                @Override
                public String decode(int[] ids) {
                    return v.decode(ids);
                }

                @Override
                public String token(int id) {
                    return v.token(id);
                }
            };
        }
        Path f = dir.resolve(Checkpoint.TOKENIZER);
        if (!Files.isRegularFile(f)) throw new IllegalArgumentException("translation checkpoint " + dir + " has no " + Checkpoint.TOKENIZER);
        Tokenizer tok = Tokenizer.fromFile(f);
        TranslationData.checkSpecialTokens(tok, f.toString());
        return new Codec() {
            @Override
            public int[] encode(String text) {
                return TranslationData.encode(tok, text.strip());
            }

            @Override
            public String decode(int[] ids) {
                List<Integer> kept = new ArrayList<>();
                for (int id : ids) {
                    if (id == CharVocab.EOS) break;
                    kept.add(id);
                }
                return tok.decode(kept.stream().mapToInt(Integer::intValue).toArray(), true).strip();
            }

            @Override
            public String token(int id) {
                if (id == CharVocab.EOS) return "EOS";
                String s = tok.decode(new int[] {id}, false).replace(' ', '_');
                return s.length() > 12 ? s.substring(0, 11) + "~" : s;
            }
        };
    }
}
