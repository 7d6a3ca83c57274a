package dev.attn4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.hub.ModelDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreTransformers() {
        GenerationConfig c = GenerationConfig.defaults();
        assertThat(c.maxLength()).isEqualTo(20);
        assertThat(c.maxNewTokens()).isNull();
        assertThat(c.topK()).isEqualTo(50);
        assertThat(c.topP()).isEqualTo(1.0);
        assertThat(c.temperature()).isEqualTo(1.0);
        assertThat(c.minP()).isNull();
        assertThat(c.numBeams()).isEqualTo(1);
        assertThat(c.lengthPenalty()).isEqualTo(1.0);
        assertThat(c.earlyStopping()).isEqualTo(GenerationConfig.EarlyStopping.FALSE);
        assertThat(c.doSample()).isFalse();
        assertThat(c.eosTokenId()).isEmpty();
        assertThat(c.maxLength(7)).isEqualTo(20);
        assertThat(c.toBuilder().maxNewTokens(5).build().maxLength(7)).isEqualTo(12);
    }

    @Test
    void readsGenerationConfigJsonAndFallsBackToConfigJsonForSpecialTokens() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"eos_token_id\": 2, \"bos_token_id\": 1, \"pad_token_id\": 0, \"max_length\": 99}");
        Files.writeString(dir.resolve("generation_config.json"), """
                {"do_sample": true, "temperature": 0.6, "top_p": 0.9, "eos_token_id": [128001, 128009],
                 "early_stopping": "never", "stop_strings": "###", "transformers_version": "4.45.0"}""");
        GenerationConfig c = GenerationConfig.from(ModelDirectory.of(dir));
        assertThat(c.doSample()).isTrue();
        assertThat(c.temperature()).isEqualTo(0.6);
        assertThat(c.topP()).isEqualTo(0.9);
        assertThat(c.eosTokenId()).containsExactly(128001, 128009);
        assertThat(c.bosTokenId()).isEqualTo(1);
        assertThat(c.padTokenId()).isEqualTo(0);
        assertThat(c.maxLength()).isEqualTo(20);                              // config.json's only counts without the file
        assertThat(c.earlyStopping()).isEqualTo(GenerationConfig.EarlyStopping.NEVER);
        assertThat(c.stopStrings()).containsExactly("###");
        GenerationConfig o = c.toBuilder().temperature(1.0).maxNewTokens(10).build();
        assertThat(o.temperature()).isEqualTo(1.0);
        assertThat(o.topP()).isEqualTo(0.9);
    }

    @Test
    void withoutTheFileConfigJsonGivesTheGenerationFields() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"eos_token_id\": 2, \"max_length\": 64, \"num_beams\": 4, \"text_config\": {\"pad_token_id\": 5}}");
        GenerationConfig c = GenerationConfig.from(ModelDirectory.of(dir));
        assertThat(c.eosTokenId()).containsExactly(2);
        assertThat(c.maxLength()).isEqualTo(64);
        assertThat(c.numBeams()).isEqualTo(4);
        assertThat(c.padTokenId()).isEqualTo(5);
    }

    @Test
    void badValuesNameTheFieldAndFile() throws Exception {
        Files.writeString(dir.resolve("generation_config.json"), "{\"temperature\": \"hot\"}");
        assertThatThrownBy(() -> GenerationConfig.from(ModelDirectory.of(dir)))
                .hasMessageContaining("generation_config.json").hasMessageContaining("\"temperature\" must be a number");
        Files.writeString(dir.resolve("generation_config.json"), "{\"do_sample\": true, \"top_p\": 1.5}");
        assertThatThrownBy(() -> GenerationConfig.from(ModelDirectory.of(dir))).hasMessageContaining("top_p");
        Files.writeString(dir.resolve("generation_config.json"), "{\"do_sample\": true, \"temperature\": 0.0}");
        assertThatThrownBy(() -> GenerationConfig.from(ModelDirectory.of(dir))).hasMessageContaining("temperature")
                .hasMessageContaining("do_sample=false");
        assertThatThrownBy(() -> GenerationConfig.builder().maxNewTokens(0).build()).hasMessageContaining("max_new_tokens");
        assertThatThrownBy(() -> GenerationConfig.builder().numBeams(2).numReturnSequences(3).build())
                .hasMessageContaining("num_return_sequences");
        assertThatThrownBy(() -> GenerationConfig.builder().numReturnSequences(2).build()).hasMessageContaining("greedy");
        assertThatThrownBy(() -> GenerationConfig.builder().doSample(true).typicalP(0).build()).hasMessageContaining("typical_p");
        assertThatThrownBy(() -> GenerationConfig.builder().doSample(true).minP(2.0).build()).hasMessageContaining("min_p");
        assertThatThrownBy(() -> GenerationConfig.builder().repetitionPenalty(-1).build()).hasMessageContaining("repetition_penalty");
        // greedy ignores the sampling fields, as transformers (which only warns)
        assertThat(GenerationConfig.builder().temperature(0).build().temperature()).isZero();
    }

    @Test
    void readsTheEncoderDecoderFields() throws Exception {
        // an OPUS-MT config.json (no generation_config.json): its generation fields count
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "marian", "bad_words_ids": [[53016]], "decoder_start_token_id": 53016, "eos_token_id": 43311,
                 "forced_eos_token_id": 43311, "max_length": 512, "num_beams": 4, "pad_token_id": 53016}""");
        GenerationConfig c = GenerationConfig.from(ModelDirectory.of(dir));
        assertThat(c.badWordsIds()).isDeepEqualTo(new int[][] {{53016}});
        assertThat(c.decoderStartTokenId()).isEqualTo(53016);
        assertThat(c.forcedEosTokenId()).containsExactly(43311);
        assertThat(c.forcedBosTokenId()).isNull();
        assertThat(c.maxLength()).isEqualTo(512);
        assertThat(Seq2SeqGenerator.decoderStartId(c)).isEqualTo(53016);
        // with a generation_config.json lacking decoder_start_token_id, config.json's is used (as the eos / pad ids)
        Files.writeString(dir.resolve("generation_config.json"), "{\"forced_bos_token_id\": 0, \"bad_words_ids\": [[1, 2], [3]]}");
        c = GenerationConfig.from(ModelDirectory.of(dir));
        assertThat(c.decoderStartTokenId()).isEqualTo(53016);
        assertThat(c.forcedBosTokenId()).isZero();
        assertThat(c.badWordsIds()).isDeepEqualTo(new int[][] {{1, 2}, {3}});
        assertThat(c.forcedEosTokenId()).isNull();
        Files.writeString(dir.resolve("generation_config.json"), "{\"bad_words_ids\": [3]}");
        assertThatThrownBy(() -> GenerationConfig.from(ModelDirectory.of(dir))).hasMessageContaining("bad_words_ids")
                .hasMessageContaining("list of lists");
        assertThatThrownBy(() -> GenerationConfig.builder().badWordsIds(new int[][] {{}}).build()).hasMessageContaining("bad_words_ids");
        assertThatThrownBy(() -> Seq2SeqGenerator.decoderStartId(GenerationConfig.defaults()))
                .hasMessageContaining("decoder_start_token_id");
        assertThat(Seq2SeqGenerator.decoderStartId(GenerationConfig.builder().bosTokenId(7).build())).isEqualTo(7);
    }

    @Test
    void noFileAtAllGivesDefaults() throws Exception {
        assertThat(GenerationConfig.from(ModelDirectory.of(dir)).toString()).isEqualTo(GenerationConfig.defaults().toString());
    }
}
