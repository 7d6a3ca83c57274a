package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.tokenizers.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code attn4j chat}: the prompts it renders (against references from jinja2 / transformers'
 * apply_chat_template, scripts/make-chat-command-refs.py), the multi-turn history, the streamed
 * replies, and its errors.
 */
class ChatCommandTest {
    static final JsonMapper JSON = JsonMapper.builder().build();

    record Run(int code, String out, String err) {
        /** The JSON lines --print-prompt wrote to stderr. */
        List<JsonNode> prompts() throws Exception {
            List<JsonNode> out = new ArrayList<>();
            for (String l : err.split("\n")) if (l.startsWith("{")) out.add(JSON.readTree(l));
            return out;
        }
    }

    static Run chat(String stdin, String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "chat";
        System.arraycopy(args, 0, all, 1, args.length);
        CliRun.Output o = CliRun.main(stdin, all);
        return new Run(o.code(), o.out(), o.err());
    }

    static JsonNode refs() throws Exception {
        return JSON.readTree(GenerateScoreCommandTest.root().resolve("attn4j-cli/src/test/resources/chat/chat-refs.json").toFile());
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
        return out;
    }

    @Test
    void multiTurnChatRendersTheTemplateAndStreamsReplies(@TempDir Path tmp) throws Exception {
        Path dir = GenerateScoreCommandTest.byteModel(tmp, null);
        Files.copy(GenerateScoreCommandTest.root().resolve("attn4j-cli/src/test/resources/chat/tokenizer_config.json"),
                dir.resolve("tokenizer_config.json"));
        JsonNode refs = refs();
        Run r = chat(refs.get("user").asText() + "\n\nSecond\n", "--model", dir.toString(), "--system", refs.get("system").asText(),
                "--print-prompt", "--greedy", "--max-new-tokens", "6");
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> prompts = r.prompts();
        assertThat(prompts).as("one prompt per non-empty line").hasSize(2);
        String first = prompts.get(0).get("prompt").asText();
        assertThat(first).isEqualTo(refs.get("chatml").asText());
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        assertThat(ints(prompts.get(0).get("prompt_ids"))).containsExactly(tok.encode(first, false).ids());
        // the first reply as generate gives it for the same prompt ids: streamed by chat, then kept in the history
        GenerateScoreCommandTest.Run g = GenerateScoreCommandTest.run("generate", "--model", dir.toString(), "--json", "--greedy",
                "--max-new-tokens", "6", "--ids", GenerateScoreCommandTest.csv(ints(prompts.get(0).get("prompt_ids"))));
        assertThat(g.code()).as(g.err()).isZero();
        String reply = g.json().get(0).get("output").asText();
        assertThat(r.out()).startsWith(reply + "\n");
        assertThat(prompts.get(1).get("prompt").asText())
                .isEqualTo(first + reply + "<|end|>\n<|user|>\nSecond<|end|>\n<|assistant|>\n");
    }

    @Test
    void aModelWithoutChatTemplateIsOneClearError(@TempDir Path tmp) throws Exception {
        Path dir = GenerateScoreCommandTest.byteModel(tmp, null);
        Run r = chat("Hello\n", "--model", dir.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(GenerateScoreCommandTest.oneLine(new GenerateScoreCommandTest.Run(r.code(), r.out(), r.err())))
                .contains("chat template");
        r = chat("Hello\n", "--model", GenerateScoreCommandTest.llama().toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("has no tokenizer");
        r = chat("Hello\n", "--model", dir.toString(), "--num-beams", "2");
        assertThat(r.code()).isEqualTo(2);
        // a conversation longer than the context (256 positions; one token per byte)
        Files.copy(GenerateScoreCommandTest.root().resolve("attn4j-cli/src/test/resources/chat/tokenizer_config.json"),
                dir.resolve("tokenizer_config.json"));
        r = chat("Hello\n", "--model", dir.toString(), "--system", "x".repeat(300));
        assertThat(r.code()).isEqualTo(2);
        assertThat(GenerateScoreCommandTest.oneLine(new GenerateScoreCommandTest.Run(r.code(), r.out(), r.err())))
                .contains("more than the model's context of 256 positions");
    }

    @Test
    void realTemplatesGiveTransformersPrompt(@TempDir Path tmp) throws Exception {
        JsonNode refs = refs();
        for (String name : new String[] {"qwen2", "llama3"}) {
            Path shared = GenerateScoreCommandTest.root().resolve("../shared/tokenizers/" + name).normalize();
            assumeTrue(Files.isRegularFile(shared.resolve("tokenizer_config.json")), "shared tokenizer not present: " + shared);
            Path dir = Files.createDirectories(tmp.resolve(name));
            Files.copy(shared.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
            Files.copy(shared.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
            int vocab = Tokenizer.fromFile(dir.resolve("tokenizer.json")).vocabSize();
            String config = "{\"model_type\": \"qwen2\", \"vocab_size\": " + vocab + ", \"hidden_size\": 8, \"intermediate_size\": 8, "
                    + "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"max_position_embeddings\": 256, "
                    + "\"tie_word_embeddings\": true}";
            Files.writeString(dir.resolve("config.json"), config);
            var cfg = dev.attn4j.models.decoder.DecoderConfig.fromJson(JSON.readTree(config));
            var model = dev.attn4j.models.DecoderModels.create(cfg, dev.attn4j.models.Params.random(new java.util.SplittableRandom(3), 0.5));
            dev.attn4j.io.safetensors.SafetensorsWriter.write(dir.resolve("model.safetensors"), model.stateDict());
            Run r = chat(refs.get("user").asText() + "\n", "--model", dir.toString(), "--system", refs.get("system").asText(),
                    "--print-prompt", "--max-new-tokens", "2", "--greedy");
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode p = r.prompts().get(0);
            assertThat(p.get("prompt").asText()).as(name).isEqualTo(refs.get(name).asText());
            assertThat(ints(p.get("prompt_ids"))).as(name + " ids").containsExactly(ints(refs.get(name + ".ids")));
            // the same model as a GGUF file: template, special tokens and tokenizer all from its metadata
            Path gguf = tmp.resolve(name + ".gguf");
            GenerateScoreCommandTest.Run q = GenerateScoreCommandTest.run("quantize", "--model", dir.toString(), "--type", "f16", "--out",
                    gguf.toString());
            assertThat(q.code()).as(q.err()).isZero();
            Run rg = chat(refs.get("user").asText() + "\n", "--model", gguf.toString(), "--system", refs.get("system").asText(),
                    "--print-prompt", "--max-new-tokens", "2", "--greedy");
            assertThat(rg.code()).as(rg.err()).isZero();
            JsonNode pg = rg.prompts().get(0);
            assertThat(pg.get("prompt").asText()).as(name + " from GGUF").isEqualTo(refs.get(name).asText());
            assertThat(ints(pg.get("prompt_ids"))).as(name + " ids from GGUF").containsExactly(ints(refs.get(name + ".ids")));
        }
    }

    @Test
    void aGgufWithoutChatTemplateIsOneClearError(@TempDir Path tmp) throws Exception {
        Path gguf = tmp.resolve("tiny.gguf");
        GenerateScoreCommandTest.Run q = GenerateScoreCommandTest.run("quantize", "--random-config", "tiny", "--type", "q8_0", "--out",
                gguf.toString());
        assertThat(q.code()).as(q.err()).isZero();
        Run r = chat("Hello\n", "--model", gguf.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(GenerateScoreCommandTest.oneLine(new GenerateScoreCommandTest.Run(r.code(), r.out(), r.err())))
                .contains("tiny.gguf has no chat template");
    }
}
