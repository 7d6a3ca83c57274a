package dev.attn4j.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Chat templates rendered by {@link ChatTemplate} against the prompts Python's jinja2 renders
 * through transformers' own render_jinja_template (resources/tokenizers/chat/chat-template-refs.json,
 * made by scripts/gen-chat-template-refs.py): the Llama 3 and Qwen3 templates of ../shared and
 * small templates of our own that use raise_exception, block whitespace rules and Python-isms.
 */
class ChatTemplateTest {
    static JsonNode refs() throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/tokenizers/chat/chat-template-refs.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> conversation(JsonNode refs, String name) {
        return new ObjectMapper().convertValue(refs.get("conversations").get(name), List.class);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(JsonNode n) {
        return n == null ? Map.of() : new ObjectMapper().convertValue(n, LinkedHashMap.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama3.1", "qwen2"})
    void sharedTemplatesEqualTransformers(String folder) throws IOException {
        ChatTemplate t = ChatTemplate.fromTokenizerConfig(SharedTokenizers.dir(folder).resolve("tokenizer_config.json"));
        JsonNode r = refs();
        JsonNode cases = r.get("models").get(folder);
        assertThat(cases.size()).isGreaterThanOrEqualTo(12);
        List<String> failures = new ArrayList<>();
        for (JsonNode c : cases) {
            String got = t.renderMessages(conversation(r, c.get("conversation").asText()),
                    c.get("add_generation_prompt").asBoolean(), map(c.get("extra")));
            String want = c.get("prompt").asText();
            if (!got.equals(want)) {
                failures.add(c.get("conversation").asText() + " agp=" + c.get("add_generation_prompt") + " extra="
                        + c.get("extra") + ":\n--- want\n" + want + "\n--- got\n" + got);
            }
        }
        assertThat(failures).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"alternating", "blocks", "pythonisms", "values", "tool_prompt", "syntax", "crlf", "defined"})
    void syntheticTemplatesEqualJinja2(String name) throws IOException {
        JsonNode r = refs();
        JsonNode s = r.get("synthetic").get(name);
        ChatTemplate t = ChatTemplate.of(s.get("template").asText(), map(s.get("special_tokens")));
        for (JsonNode c : s.get("cases")) {
            List<Map<String, Object>> conv = conversation(r, c.get("conversation").asText());
            boolean agp = c.get("add_generation_prompt").asBoolean();
            Map<String, Object> extra = map(c.get("extra"));
            String what = name + " / " + c.get("conversation").asText() + " agp=" + agp + " extra=" + extra.keySet();
            if (c.has("error")) {
                assertThatThrownBy(() -> t.renderMessages(conv, agp, extra)).as(what)
                        .isInstanceOfSatisfying(ChatTemplateException.class, e -> {
                            assertThat(e.raisedByTemplate()).isTrue();
                            assertThat(e.templateMessage()).isEqualTo(c.get("error").asText());
                            assertThat(e.getMessage()).contains(c.get("error").asText());
                        });
            } else {
                assertThat(t.renderMessages(conv, agp, extra)).as(what).isEqualTo(c.get("prompt").asText());
            }
        }
    }

    @Test
    void messageRecordsRenderAsDicts() throws IOException {
        ChatTemplate t = ChatTemplate.fromTokenizerConfig(SharedTokenizers.dir("llama3").resolve("tokenizer_config.json"));
        JsonNode r = refs();
        JsonNode c = r.get("models").get("llama3").get(2); // system_user, no generation prompt
        assertThat(c.get("conversation").asText()).isEqualTo("system_user");
        String got = t.render(List.of(ChatTemplate.Message.system("You are a helpful assistant."),
                ChatTemplate.Message.user("Hello! How are you?")), c.get("add_generation_prompt").asBoolean());
        assertThat(got).isEqualTo(c.get("prompt").asText());
        assertThat(t.specialTokens()).containsEntry("bos_token", "<|begin_of_text|>")
                .containsEntry("eos_token", "<|end_of_text|>");
    }

    @Test
    void strftimeNowIsToday() {
        ChatTemplate t = ChatTemplate.of("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d') }}", Map.of());
        String today = LocalDate.now().format(DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH)) + "|"
                + LocalDate.now();
        assertThat(t.render(List.of(), false)).isEqualTo(today);
    }

    @Test
    void generationBlockRendersItsBody() {
        ChatTemplate t = ChatTemplate.of("{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}"
                + "{{ m.content }}{% endgeneration %}{% else %}[{{ m.content }}]{% endif %}{% endfor %}", Map.of());
        assertThat(t.render(List.of(ChatTemplate.Message.user("q"), ChatTemplate.Message.assistant("a")), false))
                .isEqualTo("[q]a");
    }

    @Test
    void contentIsNeverRenderedAsATemplate() {
        ChatTemplate t = ChatTemplate.of("{{ messages[0].content }}", Map.of());
        assertThat(t.render(List.of(ChatTemplate.Message.user("{{ 7 * 6 }} {% if true %}x{% endif %}")), false))
                .isEqualTo("{{ 7 * 6 }} {% if true %}x{% endif %}");
    }

    @Test
    void errorsAreClear(@TempDir Path dir) throws IOException {
        Path none = Files.writeString(dir.resolve("no_template.json"), "{\"bos_token\": \"<s>\"}");
        assertThatThrownBy(() -> ChatTemplate.fromTokenizerConfig(none)).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("no_template.json").hasMessageContaining("no chat_template");
        Path mistral = SharedTokenizers.root().resolve("mistral/tokenizer_config.json");
        if (Files.isRegularFile(mistral)) {
            assertThatThrownBy(() -> ChatTemplate.fromTokenizerConfig(mistral)).isInstanceOf(ChatTemplateException.class)
                    .hasMessageContaining("tokenizer_config.json").hasMessageContaining("no chat_template");
        }
        Path named = Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "default", "template": "D{{ bos_token }}"},
                                   {"name": "tool_use", "template": "T"}],
                 "bos_token": {"content": "<s>", "lstrip": false}}""");
        assertThat(ChatTemplate.fromTokenizerConfig(named).render(List.of(), false)).isEqualTo("D<s>");
        assertThat(ChatTemplate.fromTokenizerConfig(named, "tool_use").render(List.of(), false)).isEqualTo("T");
        assertThatThrownBy(() -> ChatTemplate.fromTokenizerConfig(named, "rag"))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("'rag'")
                .hasMessageContaining("[default, tool_use]");
        ChatTemplate bad = ChatTemplate.of("{{ undefined_function(1) }}", Map.of());
        assertThatThrownBy(() -> bad.render(List.of(), false)).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("undefined_function").hasMessageContaining("line 1");
        ChatTemplate raises = ChatTemplate.of("{% if messages|length == 0 %}{{ raise_exception('No messages!') }}"
                + "{% endif %}ok", Map.of());
        assertThatThrownBy(() -> raises.render(List.of(), false)).isInstanceOf(ChatTemplateException.class)
                .hasMessage("chat template raised an exception: No messages!");
        assertThat(raises.render(List.of(ChatTemplate.Message.user("x")), false)).isEqualTo("ok");
    }
}
