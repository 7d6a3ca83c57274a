package dev.attn4j.tokenizers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading Hugging Face's {@code tokenizer_config.json}; errors name the file and the key. */
final class TokenizerConfig {
    private TokenizerConfig() {
    }

    static JsonNode readJson(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    static JsonNode parse(String text, String source) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw new TokenizerException(source + ": not valid JSON: " + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TokenizerException(source + ": expected a JSON object at the top level");
        }
        return root;
    }

    static boolean bool(JsonNode n, String field, Path file, boolean dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new TokenizerException(file + ": " + field + " is " + v + ", expected true or false");
        }
        return v.asBoolean();
    }

    /**
     * A special token field ({@code bos_token}, ...): a string, an AddedToken object with
     * {@code content}, or null/absent (null).
     */
    static String token(JsonNode n, String field, String source) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isObject() && v.has("content") && v.get("content").isTextual()) {
            return v.get("content").asText();
        }
        throw new TokenizerException(source + ": " + field + " is " + v
                + ", expected a string or an object with a \"content\" string");
    }
}
