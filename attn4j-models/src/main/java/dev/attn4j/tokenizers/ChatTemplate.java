package dev.attn4j.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A Hugging Face chat template ({@code tokenizer_config.json}'s {@code chat_template}, a Jinja
 * template) rendered to the prompt string that transformers' {@code apply_chat_template(...,
 * tokenize=False)} gives: the template sees {@code messages}, {@code add_generation_prompt},
 * {@code tools} and {@code documents} (None unless given), the tokenizer's special tokens
 * ({@code bos_token}, {@code eos_token}, ... when set) and any extra variables (e.g.
 * {@code enable_thinking}, {@code date_string}), with the functions transformers provides
 * ({@code raise_exception}, {@code strftime_now}, the {@code tojson} filter). Rendering uses
 * Jinjava set up as transformers sets up jinja2 (see {@link PyJinja}).
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class ChatTemplate {
    private static final String[] SPECIAL_TOKEN_ATTRIBUTES = {"bos_token", "eos_token", "unk_token", "sep_token",
        "pad_token", "cls_token", "mask_token", "additional_special_tokens"};

    private final String template;
    private final String prepared;
    private final Map<String, Object> specialTokens;

    /**
     * One chat message: its role ({@code system}, {@code user}, {@code assistant}, {@code tool}),
     * its text, and any other fields the template reads (e.g. {@code tool_calls},
     * {@code reasoning_content}), as JSON-like values (maps, lists, strings, numbers, booleans).
     */
    public record Message(String role, String content, Map<String, Object> fields) {
        public Message {
            Objects.requireNonNull(role, "role");
            fields = fields == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }

        public Message(String role, String content) {
            this(role, content, Map.of());
        }

        public static Message system(String content) {
            return new Message("system", content);
        }

        public static Message user(String content) {
            return new Message("user", content);
        }

        public static Message assistant(String content) {
            return new Message("assistant", content);
        }

        /** The message as the dict the template sees: role, content, then the other fields. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("role", role);
            m.put("content", content);
            m.putAll(fields);
            return m;
        }
    }

    private ChatTemplate(String template, Map<String, Object> specialTokens) {
        this.template = template;
        this.prepared = PyJinja.prepare(template);
        this.specialTokens = Collections.unmodifiableMap(new LinkedHashMap<>(specialTokens));
    }

    /** A template given as text, with the special tokens it may use ({@code bos_token} -> "<s>", ...). */
    public static ChatTemplate of(String template, Map<String, ?> specialTokens) {
        Objects.requireNonNull(template, "template");
        Map<String, Object> st = new LinkedHashMap<>();
        if (specialTokens != null) {
            specialTokens.forEach((k, v) -> st.put(k, toJinja(v)));
        }
        return new ChatTemplate(template, st);
    }

    /** The chat template of a {@code tokenizer_config.json} file (its default one when it holds several). */
    public static ChatTemplate fromTokenizerConfig(Path file) throws IOException {
        return fromTokenizerConfig(file, null);
    }

    /**
     * The chat template of a {@code tokenizer_config.json} file. {@code chat_template} is a string,
     * or a list of {@code {"name", "template"}} of which {@code name} picks one (null: "default").
     *
     * @throws ChatTemplateException when the file has no chat template or no template of that name
     */
    public static ChatTemplate fromTokenizerConfig(Path file, String name) throws IOException {
        JsonNode config = TokenizerConfig.readJson(file);
        String template = pick(config.get("chat_template"), name, file.toString());
        return new ChatTemplate(template, specialTokens(config, file.toString()));
    }

    /**
     * The chat template of a model directory: {@code chat_template.jinja} if present (where newer
     * transformers save it), else {@code chat_template.json}'s, else {@code tokenizer_config.json}'s;
     * special tokens come from {@code tokenizer_config.json}.
     */
    public static ChatTemplate fromDirectory(Path dir) throws IOException {
        Path config = dir.resolve("tokenizer_config.json");
        Map<String, Object> specials = Files.isRegularFile(config)
                ? specialTokens(TokenizerConfig.readJson(config), config.toString()) : Map.of();
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            return new ChatTemplate(Files.readString(jinja, StandardCharsets.UTF_8), specials);
        }
        Path json = dir.resolve("chat_template.json");
        if (Files.isRegularFile(json)) {
            return new ChatTemplate(pick(TokenizerConfig.readJson(json).get("chat_template"), null, json.toString()),
                    specials);
        }
        if (!Files.isRegularFile(config)) {
            throw new ChatTemplateException(dir + ": no chat template: expected chat_template.jinja, "
                    + "chat_template.json or tokenizer_config.json", false);
        }
        return new ChatTemplate(pick(TokenizerConfig.readJson(config).get("chat_template"), null, config.toString()),
                specials);
    }

    private static String pick(JsonNode t, String name, String source) {
        if (t == null || t.isNull()) {
            throw new ChatTemplateException(source + ": no chat_template: this tokenizer has no chat template"
                    + " (give one with ChatTemplate.of)", false);
        }
        if (t.isTextual()) {
            if (name != null && !name.equals("default")) {
                throw new ChatTemplateException(source + ": chat_template is a single template, so there is no"
                        + " template named '" + name + "'", false);
            }
            return t.asText();
        }
        if (t.isArray()) {
            TreeSet<String> names = new TreeSet<>();
            String want = name == null ? "default" : name;
            for (int i = 0; i < t.size(); i++) {
                JsonNode e = t.get(i);
                if (!e.isObject() || !e.path("name").isTextual() || !e.path("template").isTextual()) {
                    throw new ChatTemplateException(source + ": chat_template[" + i
                            + "] should be {\"name\": ..., \"template\": ...}, got " + e, false);
                }
                names.add(e.get("name").asText());
                if (e.get("name").asText().equals(want)) {
                    return e.get("template").asText();
                }
            }
            throw new ChatTemplateException(source + ": no chat template named '" + want + "'; the templates are "
                    + names, false);
        }
        throw new ChatTemplateException(source + ": chat_template should be a string or a list of named templates,"
                + " got " + t.getNodeType(), false);
    }

    /** transformers' special_tokens_map: the special-token attributes that are set, AddedToken dicts as their content. */
    private static Map<String, Object> specialTokens(JsonNode config, String source) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String k : SPECIAL_TOKEN_ATTRIBUTES) {
            JsonNode v = config.get(k);
            if (v == null || v.isNull()) {
                continue;
            }
            if (v.isArray()) {
                List<Object> list = new ArrayList<>();
                for (int i = 0; i < v.size(); i++) {
                    JsonNode e = v.get(i);
                    if (e.isTextual()) {
                        list.add(e.asText());
                    } else if (e.isObject() && e.path("content").isTextual()) {
                        list.add(e.get("content").asText());
                    } else {
                        throw new TokenizerException(source + ": " + k + "[" + i + "] is " + e
                                + ", expected a string or an object with a \"content\" string");
                    }
                }
                if (!list.isEmpty()) {
                    out.put(k, list);
                }
            } else {
                String s = TokenizerConfig.token(config, k, source);
                if (s != null && !s.isEmpty()) {
                    out.put(k, s);
                }
            }
        }
        return out;
    }

    /** The template text as given. */
    public String template() {
        return template;
    }

    /** The special tokens the template sees ({@code bos_token}, {@code eos_token}, ...). */
    public Map<String, Object> specialTokens() {
        return specialTokens;
    }

    /** Renders the conversation; see {@link #render(List, boolean, Map)}. */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders the conversation to the prompt text.
     *
     * @param addGenerationPrompt end with the header that starts the assistant's reply
     * @param extra               more template variables ({@code tools}, {@code enable_thinking}, ...);
     *                            they override the special tokens
     * @throws ChatTemplateException when the template calls {@code raise_exception} (its message is
     *                               kept) or cannot be evaluated
     */
    public String render(List<Message> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        List<Map<String, Object>> maps = new ArrayList<>(messages.size());
        for (Message m : messages) {
            maps.add(m.toMap());
        }
        return renderMessages(maps, addGenerationPrompt, extra);
    }

    /** Renders messages given as JSON-like maps (the dicts transformers takes). */
    public String renderMessages(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt,
            Map<String, ?> extra) {
        Objects.requireNonNull(messages, "messages");
        Map<String, Object> bindings = new LinkedHashMap<>(specialTokens);
        bindings.put("messages", toJinja(messages));
        bindings.put("tools", null);
        bindings.put("documents", null);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        if (extra != null) {
            extra.forEach((k, v) -> bindings.put(k, toJinja(v)));
        }
        return PyJinja.render(prepared, bindings);
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** JSON-like values as the template engine wants them: maps, lists, String, Long, Double, Boolean. */
    static Object toJinja(Object v) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Float f) {
            return Double.parseDouble(Float.toString(f));
        }
        if (v instanceof CharSequence cs) {
            return cs.toString();
        }
        if (v instanceof Message m) {
            return toJinja(m.toMap());
        }
        if (v instanceof JsonNode n) {
            return toJinja(MAPPER.convertValue(n, Object.class));
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(String.valueOf(e.getKey()), toJinja(e.getValue()));
            }
            return out;
        }
        if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            for (Iterator<?> i = it.iterator(); i.hasNext(); ) {
                out.add(toJinja(i.next()));
            }
            return out;
        }
        if (v instanceof Object[] arr) {
            return toJinja(List.of(arr));
        }
        return v;
    }
}
