package dev.attn4j.hub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Typed access to a model directory: the real all-MiniLM-L6-v2 plus broken files. */
class ModelDirectoryTest {
    @TempDir
    Path tmp;

    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    /** ../shared/models/all-MiniLM-L6-v2 relative to the repository root (tests run in the module folder). */
    static Path miniLm() {
        return dev.attn4j.testing.MiniLm.any();
    }

    @Test
    void readsTheRealAllMiniLmDirectory() throws Exception {
        Path dir = miniLm();
        assumeTrue(Files.isDirectory(dir), "shared model directory not present: " + dir);
        ModelDirectory d = ModelDirectory.of(dir);
        assertThat(d.config().get("model_type").asText()).isEqualTo("bert");
        assertThat(d.config().get("hidden_size").intValue()).isEqualTo(384);
        assertThat(d.config().get("num_hidden_layers").intValue()).isEqualTo(6);
        assertThat(d.config().get("layer_norm_eps").doubleValue()).isEqualTo(1e-12);
        assertThat(d.weightFiles()).containsExactly(dir.resolve("model.safetensors"));
        assertThat(d.file("vocab.txt")).contains(dir.resolve("vocab.txt"));
        assertThat(d.file("merges.txt")).isEmpty();
        assertThat(d.modules().orElseThrow()).extracting(SentenceTransformerModule::simpleType)
                .containsExactly("Transformer", "Pooling", "Normalize");
        assertThat(d.modules().orElseThrow().get(1).path()).isEqualTo("1_Pooling");
        SentenceBertConfig sb = d.sentenceBertConfig().orElseThrow();
        assertThat(sb.maxSeqLength()).hasValue(256);
        assertThat(sb.doLowerCase()).isFalse();
        PoolingConfig p = d.poolingConfig().orElseThrow();
        assertThat(p.wordEmbeddingDimension()).isEqualTo(384);
        assertThat(p.meanTokens()).isTrue();
        assertThat(p.modes()).containsExactly("mean");
        assertThat(d.listFiles()).contains("1_Pooling/config.json", "config.json", "tokenizer.json");
        assertThatThrownBy(() -> d.requireFile("pytorch_model.bin"))
                .isInstanceOf(ModelDirectoryException.class)
                .hasMessage(dir + ": missing pytorch_model.bin");
    }

    @Test
    void missingConfigNamesDirectoryAndFile() throws Exception {
        ModelDirectory d = ModelDirectory.of(tmp);
        assertThatThrownBy(d::config).hasMessage(tmp + ": missing config.json");
        assertThatThrownBy(d::weightFiles).hasMessageContaining("missing model.safetensors");
        assertThat(d.modules()).isEmpty();
        assertThat(d.sentenceBertConfig()).isEmpty();
        assertThat(d.poolingConfig()).isEmpty();
        assertThatThrownBy(() -> ModelDirectory.of(tmp.resolve("absent"))).hasMessageContaining("no such model directory");
    }

    @Test
    void malformedJsonNamesFileLineAndColumn() throws Exception {
        StringBuilder sb = new StringBuilder("{\n");
        int keys = 3 + rng.nextInt(10);
        for (int i = 0; i < keys; i++) {
            sb.append("  \"k").append(i).append("\": ").append(rng.nextInt(1000)).append(i + 1 < keys ? ",\n" : "\n");
        }
        sb.append('}');
        String full = sb.toString();
        String cut = full.substring(0, 1 + rng.nextInt(full.length() - 1)); // always before the closing brace
        Path config = tmp.resolve("config.json");
        Files.writeString(config, cut);
        ModelDirectory d = ModelDirectory.of(tmp);
        assertThatThrownBy(d::config).as("seed %d, text %s", seed, cut)
                .isInstanceOf(ModelDirectoryException.class)
                .hasMessageStartingWith(config + ": malformed JSON at line ")
                .hasMessageContaining(", column ");

        Files.writeString(config, "{\"a\": 1}\n{\"b\": 2}");
        assertThatThrownBy(d::config).hasMessageContaining(config + ": malformed JSON at line 2");
        Files.writeString(config, "[1, 2]");
        assertThatThrownBy(d::config).hasMessageContaining("expected a JSON object, found array");
        Files.writeString(config, "");
        assertThatThrownBy(d::config).hasMessageContaining(config.toString());
        Files.writeString(config, "{\"x\": NaN}");
        assertThat(d.config().get("x").isNumber()).isTrue();
    }

    @Test
    void sentenceTransformerFilesWithWrongTypesAreClearErrors() throws Exception {
        Path sbc = tmp.resolve("sentence_bert_config.json");
        Files.writeString(sbc, "{\"max_seq_length\": \"long\", \"do_lower_case\": true}");
        ModelDirectory d = ModelDirectory.of(tmp);
        assertThatThrownBy(d::sentenceBertConfig).hasMessageStartingWith(sbc.toString())
                .hasMessageContaining("'max_seq_length' must be an integer, found string \"long\"");
        Files.writeString(sbc, "{\"max_seq_length\": null}");
        assertThat(d.sentenceBertConfig().orElseThrow().maxSeqLength()).isEmpty();

        Files.writeString(tmp.resolve("modules.json"), "{\"idx\": 0}");
        assertThatThrownBy(d::modules).hasMessageContaining("modules.json: expected a JSON array");
        Files.writeString(tmp.resolve("modules.json"), "[{\"idx\": 0, \"path\": \"../x\", \"type\": \"a.B\"}]");
        assertThatThrownBy(d::modules).hasMessageContaining("module [0] 'path'");
        Files.writeString(tmp.resolve("modules.json"),
                "[{\"idx\": 0, \"path\": \"pool\", \"type\": \"sentence_transformers.models.Pooling\"}]");
        assertThatThrownBy(d::poolingConfig).hasMessage(tmp + ": missing pool/config.json (pooling module '0' of modules.json)");
        Files.createDirectories(tmp.resolve("pool"));
        Files.writeString(tmp.resolve("pool/config.json"), "{\"pooling_mode_max_tokens\": true}");
        assertThatThrownBy(d::poolingConfig).hasMessageContaining("pool/config.json: missing 'word_embedding_dimension'");
        Files.writeString(tmp.resolve("pool/config.json"), "{\"word_embedding_dimension\": 8, \"pooling_mode_max_tokens\": \"yes\"}");
        assertThatThrownBy(d::poolingConfig).hasMessageContaining("'pooling_mode_max_tokens' must be true or false");
        Files.writeString(tmp.resolve("pool/config.json"), "{\"word_embedding_dimension\": 8}");
        assertThatThrownBy(d::poolingConfig).hasMessageContaining("no pooling mode");
        Files.writeString(tmp.resolve("pool/config.json"),
                "{\"word_embedding_dimension\": 8, \"pooling_mode_max_tokens\": true, \"pooling_mode_cls_token\": true}");
        assertThat(d.poolingConfig().orElseThrow().modes()).containsExactly("cls", "max");
    }

    @Test
    void shardIndexProblemsNameTheShard() throws Exception {
        Path index = tmp.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\"}}");
        Files.writeString(tmp.resolve("s1.safetensors"), "x");
        ModelDirectory d = ModelDirectory.of(tmp);
        assertThat(d.shardNames()).containsExactly("s1.safetensors", "s2.safetensors");
        assertThatThrownBy(d::weightFiles).hasMessage(tmp + ": missing s2.safetensors");
        Files.writeString(index, "{\"weight_map\": {\"a\": 3}}");
        assertThatThrownBy(d::weightFiles).hasMessageContaining("weight_map['a'] must be a file name");
        Files.writeString(index, "{\"weight_map\": {\"a\": \"../../etc/passwd\"}}");
        assertThatThrownBy(d::weightFiles).hasMessageContaining("weight_map['a']").hasMessageContaining("'..'");
    }
}
