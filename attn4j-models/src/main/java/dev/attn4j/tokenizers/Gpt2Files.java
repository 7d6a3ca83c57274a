package dev.attn4j.tokenizers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * GPT-2's original tokenizer files, {@code vocab.json} (token to id) and {@code merges.txt}
 * (a {@code #version} line, then one {@code left right} merge per line, by rank), made into the
 * tokenizer that Hugging Face's {@code GPT2TokenizerFast} builds from them: GPT-2's byte-level
 * pre-tokenizer (its regex, no prefix space), byte-level BPE with no unknown token, the
 * byte-level decoder, and {@code <|endoftext|>} as a special token.
 */
final class Gpt2Files {
    static final String END_OF_TEXT = "<|endoftext|>";

    private Gpt2Files() {
    }

    static Tokenizer tokenizer(String vocabJson, String vocabSource, String mergesTxt, String mergesSource) {
        return tokenizer(vocabJson, vocabSource, mergesTxt, mergesSource, false);
    }

    /**
     * As {@link #tokenizer(String, String, String, String)}; with {@code roberta} the tokenizer
     * {@code RobertaTokenizerFast} / {@code BartTokenizerFast} build from the same files:
     * {@code <s> $A </s>} ({@code </s></s> $B </s>} for pairs), {@code <s>}, {@code <pad>},
     * {@code </s>}, {@code <unk>} and {@code <mask>} (which takes the space before it) as special tokens.
     */
    static Tokenizer tokenizer(String vocabJson, String vocabSource, String mergesTxt, String mergesSource, boolean roberta) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(vocabJson);
        } catch (JsonProcessingException e) {
            throw new TokenizerException(vocabSource + ": not valid JSON: " + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TokenizerException(vocabSource + ": expected a JSON object of token -> id");
        }
        Map<String, Integer> vocab = new HashMap<>(root.size() * 2);
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt()) {
                throw new TokenizerException(vocabSource + ": token '" + e.getKey() + "' has id " + e.getValue()
                        + ", expected an integer");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        List<String[]> merges = new ArrayList<>();
        String[] lines = mergesTxt.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (i == 0 && line.startsWith("#version")) {
                continue;
            }
            if (line.isEmpty()) {
                if (i >= lines.length - 1) {
                    continue; // the final newline
                }
                throw new TokenizerException(mergesSource + ": line " + (i + 1) + " is empty");
            }
            String[] parts = line.split(" ", -1);
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                throw new TokenizerException(mergesSource + ": line " + (i + 1) + " is '" + line
                        + "', expected two tokens separated by one space");
            }
            merges.add(parts);
        }
        Models.Bpe model;
        try {
            model = new Models.Bpe(vocab, merges, null, null, null, false, false, false);
        } catch (TokenizerException e) {
            throw new TokenizerException(mergesSource + " with " + vocabSource + ": " + e.getMessage(), e);
        }
        List<AddedToken> added = new ArrayList<>();
        if (roberta) {
            for (String t : List.of("<s>", "<pad>", "</s>", "<unk>", "<mask>")) {
                Integer id = vocab.get(t);
                if (id == null) throw new TokenizerException(vocabSource + ": the special token " + t + " is not in the vocabulary");
                added.add(new AddedToken(id, t, false, t.equals("<mask>"), false, false, true));
            }
            return new Tokenizer(null, new PreTokenizers.ByteLevel(false, true, true), model,
                    new PostProcessors.Roberta("</s>", vocab.get("</s>"), "<s>", vocab.get("<s>"), true, false), new Decoders.ByteLevel(),
                    new AddedVocabulary(added, null), null, null);
        }
        Integer eot = vocab.get(END_OF_TEXT);
        if (eot != null) {
            added.add(new AddedToken(eot, END_OF_TEXT, false, false, false, false, true));
        }
        return new Tokenizer(null, new PreTokenizers.ByteLevel(false, true, true), model,
                new PostProcessors.ByteLevel(false, false), new Decoders.ByteLevel(), new AddedVocabulary(added, null),
                null, null);
    }
}
