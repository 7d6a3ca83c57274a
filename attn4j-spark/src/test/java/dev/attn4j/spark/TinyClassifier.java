package dev.attn4j.spark;

import dev.attn4j.models.Params;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.BertForSequenceClassification;
import dev.attn4j.models.bert.ClassifierConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A small random BERT sequence classifier (labels neg / neu / pos) with a 40-token WordPiece tokenizer.json, in HF layout. */
final class TinyClassifier {
    private TinyClassifier() {
    }

    static Path write(Path dir) throws Exception {
        BertConfig c = BertConfig.bert(40, 32, 2, 4, 64, 40, 2);
        SplittableRandom rng = new SplittableRandom(5);
        Path model = dir.resolve("classifier");
        new BertForSequenceClassification(c, new ClassifierConfig(List.of("neg", "neu", "pos"), null, null), null,
                Params.random(rng, 0.2), Params.random(rng, 0.8), rng).savePretrained(model, null);
        List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad", "film", "plot"));
        for (int i = tokens.size(); i < 40; i++) tokens.add("w" + i);
        StringBuilder vocab = new StringBuilder(), added = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) vocab.append(i == 0 ? "" : ",").append('"').append(tokens.get(i)).append("\":").append(i);
        for (int i = 0; i < 4; i++) {
            added.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"content\":\"").append(tokens.get(i))
                    .append("\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
        }
        Files.writeString(model.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":["
                + added + "],\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,"
                + "\"strip_accents\":null,\"lowercase\":true},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},\"post_processor\":"
                + "{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]},\"decoder\":{\"type\":\"WordPiece\","
                + "\"prefix\":\"##\",\"cleanup\":true},\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\","
                + "\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":100,\"vocab\":{" + vocab + "}}}");
        return model;
    }
}
