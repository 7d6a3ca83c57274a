package dev.attn4j.serve;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.Params;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.onnx.DefaultModel;
import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.models.seq2seq.Arch;
import dev.attn4j.models.seq2seq.Seq2SeqConfig;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tokenizers.ChatTemplate;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.Truncation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Models for the server tests, all made here or shipped in a jar: nothing outside the repository is needed. */
final class TestModels {
    private TestModels() {
    }

    static final JsonMapper JSON = JsonMapper.builder().build();

    /** The built-in all-MiniLM-L6-v2 (converted from the jar on first use). */
    static Path defaultModelDir() {
        try {
            return DefaultModel.resolve();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ServedModel.Embedding embedding() throws IOException {
        return new ServedModel.Embedding(DefaultModel.NAME, SentenceTransformer.load(defaultModelDir()));
    }

    /**
     * A sentiment-style classifier: all-MiniLM-L6-v2's encoder with a fresh 3-label head (seeded),
     * as transformers' from_pretrained builds one on a bare encoder.
     */
    static ServedModel.Classifier classifier(Path tmp) throws IOException {
        Path src = defaultModelDir();
        Path dir = Files.createDirectories(tmp.resolve("minilm-classifier"));
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        config.putArray("architectures").add("BertForSequenceClassification");
        config.putObject("id2label").put("0", "negative").put("1", "neutral").put("2", "positive");
        config.putObject("label2id").put("negative", 0).put("neutral", 1).put("positive", 2);
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config));
        Files.createSymbolicLink(dir.resolve("model.safetensors"), src.resolve("model.safetensors"));
        Files.copy(src.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        EncoderClassifier m = EncoderClassifiers.load(dir);
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json")).withTruncation(Truncation.of(256)).withPadding(null);
        return new ServedModel.Classifier("minilm-classifier", m, tok, 256);
    }

    /** A random 1-layer Llama over a byte-level vocabulary (257 ids, 256 = "<|end|>" = EOS) with a chat template. */
    static ServedModel.Chat chat(Path tmp) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("tiny-chat"));
        StringBuilder vocab = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            if (b > 0) vocab.append(", ");
            vocab.append(JSON.writeValueAsString(byteChar(b))).append(": ").append(b);
        }
        String tokenizer = "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [{\"id\": 256, "
                + "\"content\": \"<|end|>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
                + "\"special\": true}], \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                + "\"trim_offsets\": true, \"use_regex\": true}, \"post_processor\": null, \"decoder\": {\"type\": \"ByteLevel\", "
                + "\"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}, \"model\": {\"type\": \"BPE\", "
                + "\"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, "
                + "\"fuse_unk\": false, \"byte_fallback\": false, \"vocab\": {" + vocab + "}, \"merges\": []}}";
        String config = "{\"model_type\": \"llama\", \"vocab_size\": 257, \"hidden_size\": 16, \"intermediate_size\": 16, "
                + "\"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"max_position_embeddings\": 256, "
                + "\"eos_token_id\": 256, \"tie_word_embeddings\": false}";
        String tokenizerConfig = "{\"eos_token\": \"<|end|>\", \"chat_template\": \"{% for message in messages %}{{ '<|' + message['role'] "
                + "+ '|>\\n' + message['content'] + eos_token + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}\"}";
        Files.writeString(dir.resolve("config.json"), config);
        Files.writeString(dir.resolve("tokenizer.json"), tokenizer);
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
        DecoderConfig cfg = DecoderConfig.fromJson(JSON.readTree(config));
        CausalDecoder random = DecoderModels.create(cfg, Params.random(new SplittableRandom(11), 1.0));
        dev.attn4j.io.safetensors.SafetensorsWriter.write(dir.resolve("model.safetensors"), random.stateDict());
        CausalDecoder m = DecoderModels.load(dir);
        return new ServedModel.Chat("tiny-chat", m, Tokenizer.fromFile(dir.resolve("tokenizer.json")),
                ChatTemplate.fromDirectory(dir), GenerationConfig.from(dev.attn4j.hub.ModelDirectory.of(dir)));
    }

    /** A random tiny encoder-decoder Transformer over the dates character vocabulary. */
    static ServedModel.Seq2Seq seq2seq() {
        CharVocab vocab = CharVocab.dates();
        Seq2SeqConfig c = Seq2SeqConfig.defaults(Arch.TRANSFORMER, vocab.size()).withSizes(16, 2, 2, 32, 16);
        Seq2SeqModel<?> m = Seq2SeqModel.create(c, new SplittableRandom(5));
        m.eval();
        return new ServedModel.Seq2Seq("tiny-dates", m, vocab);
    }

    /** GPT-2's printable stand-in for byte {@code b}. */
    static String byteChar(int b) {
        if (b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF) return String.valueOf((char) b);
        int n = 0;
        for (int x = 0; x < b; x++) if (!(x >= '!' && x <= '~' || x >= 0xA1 && x <= 0xAC || x >= 0xAE && x <= 0xFF)) n++;
        return String.valueOf((char) (256 + n));
    }
}
