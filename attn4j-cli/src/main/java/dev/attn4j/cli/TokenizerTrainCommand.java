package dev.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.io.AtomicFiles;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.TokenizerTrainer;
import dev.attn4j.train.data.TextLines;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attn4j tokenizer train --type bpe|unigram --vocab-size N --files F... --out tokenizer.json}:
 * trains a tokenizer on text files (one sequence per line) and writes a Hugging Face tokenizer.json.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a BPE or Unigram tokenizer on text files (UTF-8, gzip allowed, one sequence per line) and write a "
                + "Hugging Face tokenizer.json; prints one JSON summary line.")
public final class TokenizerTrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--type", required = true, description = "bpe or unigram.")
    String type;

    @Option(names = "--vocab-size", required = true, description = "Vocabulary size, special tokens included.")
    int vocabSize;

    @Option(names = "--files", required = true, arity = "1..*", description = "Training text files.")
    List<Path> files = new ArrayList<>();

    @Option(names = "--out", required = true, description = "tokenizer.json to write.")
    Path out;

    @Option(names = "--pre-tokenizer", description = "byte-level or metaspace (default: byte-level for bpe, metaspace for unigram).")
    String preTokenizer;

    @Option(names = "--normalizer", description = "none, nfc, nfkc or lowercase (default: none for byte-level, nfkc for metaspace).")
    String normalizer;

    @Option(names = "--special-tokens", split = ",", description = "Special tokens, first ids in this order (default <pad>,<s>,</s>,<unk>).")
    List<String> specialTokens;

    @Option(names = "--unk-token", defaultValue = "<unk>", description = "Unknown token (metaspace and unigram; default ${DEFAULT-VALUE}).")
    String unkToken;

    @Option(names = "--add-prefix-space", description = "Byte-level: add a space in front of each sequence.")
    boolean addPrefixSpace;

    @Option(names = "--min-frequency", defaultValue = "0", description = "BPE: least pair count to merge (default ${DEFAULT-VALUE}).")
    long minFrequency;

    @Option(names = "--limit-alphabet", description = "BPE: keep at most this many characters.")
    Integer limitAlphabet;

    @Override
    public Integer call() throws Exception {
        TokenizerTrainer.ModelType t = TokenizerTrainer.ModelType.byName(type);
        TokenizerTrainer.PreTokenization p = preTokenizer != null ? TokenizerTrainer.PreTokenization.byName(preTokenizer)
                : t == TokenizerTrainer.ModelType.BPE ? TokenizerTrainer.PreTokenization.BYTE_LEVEL : TokenizerTrainer.PreTokenization.METASPACE;
        TokenizerTrainer.Normalization n = normalizer != null ? TokenizerTrainer.Normalization.byName(normalizer)
                : p == TokenizerTrainer.PreTokenization.METASPACE ? TokenizerTrainer.Normalization.NFKC : TokenizerTrainer.Normalization.NONE;
        List<String> specials = specialTokens != null ? specialTokens : List.of("<pad>", "<s>", "</s>", "<unk>");
        TokenizerTrainer.Options o = new TokenizerTrainer.Options(t, vocabSize, p, n, specials, unkToken, addPrefixSpace, minFrequency,
                limitAlphabet);
        long t0 = System.nanoTime();
        List<String> lines = new ArrayList<>();
        for (Path f : files) {
            for (String line : TextLines.read(f)) lines.add(stripLineEnd(line));
        }
        if (lines.isEmpty()) throw new IllegalArgumentException("--files: no lines to train on in " + files);
        String json = TokenizerTrainer.trainJson(lines, o);
        Tokenizer tok = Tokenizer.fromJson(json);                                // what we write must load
        AtomicFiles.write(out, json.getBytes(StandardCharsets.UTF_8));
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("out", out.toString());
        summary.put("type", t.name().toLowerCase(java.util.Locale.ROOT));
        summary.put("preTokenizer", o.preTokenization().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        summary.put("vocabSize", tok.vocabSize());
        summary.put("lines", lines.size());
        summary.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
        spec.commandLine().getOut().println(new ObjectMapper().writeValueAsString(summary));
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static String stripLineEnd(String line) {
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }
}
