package dev.attn4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.generate.Generator;
import dev.attn4j.generate.StopReason;
import dev.attn4j.generate.TokenEvent;
import dev.attn4j.tokenizers.ChatTemplate;
import dev.attn4j.tokenizers.StreamingDecoder;
import dev.attn4j.tokenizers.Tokenizer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

/**
 * {@code POST /v1/chat/completions} and {@code POST /v1/completions} for decoder-only LMs, with
 * OpenAI's request and response shapes. Sampling follows the request ({@code temperature} 0 is
 * greedy; {@code temperature}, {@code top_p}, {@code seed}) over the model's generation_config.json
 * defaults. Stop strings end the text before them, as OpenAI's {@code stop} does; with
 * {@code stream} the text goes out as server-sent events, ended by {@code data: [DONE]}.
 */
final class GenerationApi {
    /** Used when the request has no max_tokens and the model's generation config none either (chat). */
    static final int DEFAULT_MAX_TOKENS = 128;
    /** OpenAI's default max_tokens for /v1/completions. */
    static final int DEFAULT_COMPLETION_TOKENS = 16;

    private static final Set<String> COMMON = Set.of("model", "max_tokens", "temperature", "top_p", "seed", "stop", "stream",
            "stream_options", "n", "user", "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "store", "metadata",
            "service_tier");
    static final Set<String> CHAT_FIELDS = union(COMMON, Set.of("messages", "max_completion_tokens", "top_logprobs", "tools",
            "tool_choice", "parallel_tool_calls", "response_format", "modalities", "reasoning_effort", "prediction", "audio",
            "web_search_options", "functions", "function_call", "prompt_cache_key", "safety_identifier", "verbosity"));
    static final Set<String> COMPLETION_FIELDS = union(COMMON, Set.of("prompt", "echo", "suffix", "best_of"));

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** A way to send the response: one JSON object, or a stream of server-sent events. */
    interface Responder {
        void json(JsonNode body);

        /** Opens the event stream; each accepted string is one event's data. */
        void events(Consumer<Consumer<String>> writer);
    }

    private final Models models;
    private final ServeOptions options;
    private final Metrics metrics;
    private final Semaphore admitted;

    GenerationApi(Models models, ServeOptions options, Metrics metrics) {
        this.models = models;
        this.options = options;
        this.metrics = metrics;
        this.admitted = new Semaphore(options.maxQueue());
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> s = new HashSet<>(a);
        s.addAll(b);
        return Set.copyOf(s);
    }

    void chat(JsonNode body, Responder out) {
        Fields f = Fields.of(body, CHAT_FIELDS);
        ServedModel.Chat m = pick(f);
        if (m.tokenizer() == null) throw ApiException.invalid("model", m.id() + " has no tokenizer, which chat needs");
        if (m.template() == null) {
            throw ApiException.invalid("model", m.id() + " has no chat template (tokenizer_config.json's chat_template): use /v1/completions");
        }
        for (String name : List.of("top_logprobs")) f.onlyNeutral(name, NullNode.getInstance(), "is not supported");
        f.onlyNeutral("tools", NODES.arrayNode(), "(tool calling) is not supported");
        f.onlyNeutral("functions", NODES.arrayNode(), "(function calling) is not supported");
        f.onlyNeutral("tool_choice", TextNode.valueOf("none"), "is not supported: no tools");
        f.onlyNeutral("function_call", TextNode.valueOf("none"), "is not supported: no functions");
        f.onlyNeutral("response_format", NODES.objectNode().put("type", "text"), "is not supported: only {\"type\": \"text\"}");
        for (String name : List.of("modalities", "prediction", "audio", "web_search_options", "reasoning_effort", "verbosity")) {
            f.onlyNeutral(name, NullNode.getInstance(), "is not supported");
        }
        List<ChatTemplate.Message> messages = messages(f);
        String prompt;
        try {
            prompt = m.template().render(messages, true);
        } catch (RuntimeException e) {
            throw ApiException.invalid("messages", "the chat template failed on these messages: " + e.getMessage());
        }
        int[] ids = m.tokenizer().encode(prompt, false).ids();
        Integer maxTokens = f.has("max_completion_tokens") ? f.integer("max_completion_tokens", null, 1, Integer.MAX_VALUE)
                : f.integer("max_tokens", null, 1, Integer.MAX_VALUE);
        generate(m, f, ids, "messages", maxTokens, DEFAULT_MAX_TOKENS, true, out);
    }

    void completions(JsonNode body, Responder out) {
        Fields f = Fields.of(body, COMPLETION_FIELDS);
        ServedModel.Chat m = pick(f);
        f.onlyNeutral("echo", BooleanNode.FALSE, "is not supported");
        f.onlyNeutral("suffix", NullNode.getInstance(), "is not supported");
        f.onlyNeutral("best_of", IntNode.valueOf(1), "must be 1");
        JsonNode p = f.raw("prompt");
        if (p == null || p.isNull()) throw ApiException.invalid("prompt", "'prompt' is required");
        if (p.isArray() && p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) p = p.get(0);
        int[] ids;
        if (p.isTextual()) {
            if (m.tokenizer() == null) throw ApiException.invalid("prompt", m.id() + " has no tokenizer: give the prompt as token ids");
            ids = m.tokenizer().encode(p.asText(), true).ids();
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isNumber()) {
            ids = new int[p.size()];
            int vocab = m.model().vocabSize();
            for (int i = 0; i < ids.length; i++) {
                JsonNode t = p.get(i);
                if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= vocab) {
                    throw ApiException.invalid("prompt", "'prompt[" + i + "]' must be a token id in [0, " + vocab + "), got " + t);
                }
                ids[i] = t.asInt();
            }
        } else if (p.isArray() && p.size() > 1) {
            throw ApiException.invalid("prompt", "one prompt per request: 'prompt' holds " + p.size());
        } else {
            throw ApiException.invalid("prompt", "'prompt' must be a string or an array of token ids, got " + Fields.typeName(p));
        }
        if (ids.length == 0) throw ApiException.invalid("prompt", "the prompt has no tokens");
        Integer maxTokens = f.integer("max_tokens", null, 1, Integer.MAX_VALUE);
        generate(m, f, ids, "prompt", maxTokens, DEFAULT_COMPLETION_TOKENS, false, out);
    }

    private ServedModel.Chat pick(Fields f) {
        ServedModel.Chat m = models.pick(ServedModel.Chat.class, f.string("model", false), "a decoder-only language model",
                "--model M");
        f.onlyNeutral("n", IntNode.valueOf(1), "must be 1: one choice per request");
        f.onlyNeutral("frequency_penalty", IntNode.valueOf(0), "is not supported (only 0)");
        f.onlyNeutral("presence_penalty", IntNode.valueOf(0), "is not supported (only 0)");
        f.onlyNeutral("logprobs", BooleanNode.FALSE, "is not supported");
        JsonNode bias = f.raw("logit_bias");
        if (bias != null && !bias.isNull() && !(bias.isObject() && bias.isEmpty())) {
            throw ApiException.invalid("logit_bias", "'logit_bias' is not supported");
        }
        return m;
    }

    /** The chat messages: role system / developer / user / assistant, content a string or text parts. */
    private static List<ChatTemplate.Message> messages(Fields f) {
        JsonNode raw = f.raw("messages");
        if (raw == null || raw.isNull()) throw ApiException.invalid("messages", "'messages' is required");
        if (!raw.isArray() || raw.isEmpty()) throw ApiException.invalid("messages", "'messages' must be a non-empty array");
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode msg = raw.get(i);
            if (!msg.isObject()) throw ApiException.invalid(at, "'" + at + "' must be an object");
            for (var it = msg.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!Set.of("role", "content", "name").contains(k)) {
                    throw ApiException.invalid(at + "." + k, "'" + at + "." + k + "' is not supported (role, content, name are)");
                }
            }
            JsonNode role = msg.get("role");
            if (role == null || !role.isTextual()) throw ApiException.invalid(at + ".role", "'" + at + ".role' must be a string");
            String r = role.asText();
            if (r.equals("developer")) r = "system";
            if (!Set.of("system", "user", "assistant").contains(r)) {
                throw ApiException.invalid(at + ".role", "'" + at + ".role' must be system, developer, user or assistant, got '" + r + "'");
            }
            JsonNode content = msg.get("content");
            String text;
            if (content == null || content.isNull()) {
                throw ApiException.invalid(at + ".content", "'" + at + ".content' is required");
            } else if (content.isTextual()) {
                text = content.asText();
            } else if (content.isArray()) {
                StringBuilder sb = new StringBuilder();
                for (int j = 0; j < content.size(); j++) {
                    JsonNode part = content.get(j);
                    if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                        throw ApiException.invalid(at + ".content[" + j + "]", "'" + at + ".content[" + j
                                + "]' must be {\"type\": \"text\", \"text\": ...}: only text is supported");
                    }
                    sb.append(part.get("text").asText());
                }
                text = sb.toString();
            } else {
                throw ApiException.invalid(at + ".content", "'" + at + ".content' must be a string or an array of text parts");
            }
            out.add(new ChatTemplate.Message(r, text));
        }
        return out;
    }

    private void generate(ServedModel.Chat m, Fields f, int[] ids, String promptField, Integer maxTokens, int fallbackMax,
                          boolean chat, Responder out) {
        int context = m.model().config().maxPositionEmbeddings();
        if (ids.length >= context) {
            throw ApiException.invalid(promptField, "the prompt has " + ids.length + " tokens; " + m.id() + "'s context is " + context
                    + " positions, which leaves none to generate");
        }
        int room = context - ids.length;
        if (maxTokens != null && maxTokens > room) {
            throw ApiException.invalid(chat && f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens",
                    m.id() + "'s context is " + context + " tokens: the prompt has " + ids.length + " and " + maxTokens
                            + " more were requested");
        }
        GenerationConfig config = config(m, f, maxTokens != null ? maxTokens
                : Math.min(room, m.generation().maxNewTokens() != null ? m.generation().maxNewTokens() : fallbackMax));
        boolean stream = f.bool("stream", false);
        ObjectNode streamOptions = f.object("stream_options");
        if (streamOptions != null && !stream) throw ApiException.invalid("stream_options", "'stream_options' needs \"stream\": true");
        boolean includeUsage = false;
        if (streamOptions != null) {
            for (var it = streamOptions.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!k.equals("include_usage") && !k.equals("include_obfuscation")) {
                    throw ApiException.invalid("stream_options." + k, "unknown field 'stream_options." + k + "'");
                }
            }
            JsonNode iu = streamOptions.get("include_usage");
            if (iu != null && !iu.isNull() && !iu.isBoolean()) {
                throw ApiException.invalid("stream_options.include_usage", "'stream_options.include_usage' must be true or false");
            }
            includeUsage = iu != null && iu.asBoolean();
        }
        if (!admitted.tryAcquire()) {
            throw new ApiException(429, "rate_limit_error", "the server is busy: " + options.maxQueue()
                    + " generation requests are in progress (--max-queue); retry later", null, "queue_full", 1);
        }
        try {
            Run run = new Run(m, config, ids, chat);
            if (stream) {
                boolean usage = includeUsage;
                out.events(emit -> run.stream(emit, usage));
            } else {
                out.json(run.whole());
            }
        } finally {
            admitted.release();
        }
    }

    /** The model's defaults with the request's sampling fields over them. */
    private static GenerationConfig config(ServedModel.Chat m, Fields f, int maxNewTokens) {
        GenerationConfig.Builder b = m.generation().toBuilder();
        b.maxNewTokens(maxNewTokens).minNewTokens(null).numBeams(1).numReturnSequences(1);
        Double temperature = f.number("temperature", null, 0, 2);
        Double topP = f.number("top_p", null, 0, 1);
        Long seed = f.longValue("seed");
        if (temperature != null && temperature == 0) {
            b.doSample(false);
        } else {
            if (temperature != null) b.doSample(true).temperature(temperature);
            if (topP != null) {
                if (topP == 0) throw ApiException.invalid("top_p", "'top_p' must be > 0");
                b.doSample(true).topP(topP);
            }
        }
        if (seed != null) b.seed(seed);
        List<String> stop = stops(f, m);
        if (!stop.isEmpty()) {
            List<String> all = new ArrayList<>(m.generation().stopStrings());
            all.addAll(stop);
            b.stopStrings(all);
        }
        GenerationConfig c = m.generation();
        if (c.padTokenId() == null && c.eosTokenId().length == 0) b.padTokenId(0);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, "generation settings: " + e.getMessage());
        }
    }

    private static List<String> stops(Fields f, ServedModel.Chat m) {
        List<String> stop = f.strings("stop", false);
        if (stop == null) return List.of();
        if (stop.size() > 4) throw ApiException.invalid("stop", "'stop' holds " + stop.size() + " sequences; at most 4");
        for (String s : stop) if (s.isEmpty()) throw ApiException.invalid("stop", "'stop' holds an empty string");
        if (m.tokenizer() == null) throw ApiException.invalid("stop", "'stop' needs the model's tokenizer; " + m.id() + " has none");
        return stop;
    }

    /** One generation: the text as it comes, stop strings cut off, OpenAI's finish reasons. */
    private final class Run {
        private final ServedModel.Chat m;
        private final GenerationConfig config;
        private final int[] prompt;
        private final boolean chat;
        private final String id;
        private final long created = System.currentTimeMillis() / 1000;
        private final long deadline;
        private final StreamingDecoder decoder;
        private final List<String> stops;
        private final int holdBack;
        private final StringBuilder pending = new StringBuilder();
        private int completionTokens;
        private String finishReason;

        Run(ServedModel.Chat m, GenerationConfig config, int[] prompt, boolean chat) {
            this.m = m;
            this.config = config;
            this.prompt = prompt;
            this.chat = chat;
            this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
            this.deadline = System.nanoTime() + options.requestTimeout().toNanos();
            this.decoder = m.tokenizer() == null ? null : new StreamingDecoder(m.tokenizer());
            this.stops = config.stopStrings();
            int longest = 0;
            for (String s : stops) longest = Math.max(longest, s.length());
            this.holdBack = Math.max(0, longest - 1);
        }

        /**
         * Runs the model, handing each piece of text that is final to {@code sink}; the text
         * that may still turn out to start a stop string is held back until it cannot.
         */
        private void generate(Consumer<String> sink) {
            Tokenizer tok = m.tokenizer();
            Generator generator = new Generator(m.model(), tok == null ? null : id -> tok.decode(new int[] {id}, false));
            metrics.tokens(m.id(), "prompt", prompt.length);
            try (var g = GradMode.noGrad()) {
                Iterator<TokenEvent> events = generator.stream(List.of(prompt), config);
                while (events.hasNext()) {
                    TokenEvent e = events.next();
                    completionTokens++;
                    metrics.tokens(m.id(), "completion", 1);
                    pending.append(decoder != null ? decoder.next(e.token()) : (completionTokens > 1 ? " " : "") + e.token());
                    if (e.stopReason() != null) {
                        finishReason = e.stopReason() == StopReason.LENGTH ? "length" : "stop";
                        if (e.stopReason() == StopReason.STOP_STRING) cutAtStop();
                        break;
                    }
                    if (System.nanoTime() > deadline) {
                        throw new ApiException(504, "timeout_error", "generation took longer than "
                                + options.requestTimeout().toMillis() + " ms", null, "timeout", 0);
                    }
                    int ready = pending.length() - holdBack;
                    if (ready > 0) {
                        sink.accept(pending.substring(0, ready));
                        pending.delete(0, ready);
                    }
                }
            }
            if (finishReason == null) finishReason = "length";
            if (decoder != null && !stopHit) pending.append(decoder.flush());
            if (pending.length() > 0) sink.accept(pending.toString());
            pending.setLength(0);
        }

        private boolean stopHit;

        /** Cuts the pending text at the first stop string in it (OpenAI leaves the stop sequence out). */
        private void cutAtStop() {
            if (decoder != null) pending.append(decoder.flush());
            int cut = -1;
            for (String s : stops) {
                int at = pending.indexOf(s);
                if (at >= 0 && (cut < 0 || at < cut)) cut = at;
            }
            if (cut >= 0) pending.setLength(cut);
            stopHit = true;
        }

        JsonNode whole() {
            StringBuilder text = new StringBuilder();
            generate(text::append);
            ObjectNode out = head(chat ? "chat.completion" : "text_completion");
            ObjectNode choice = out.putArray("choices").addObject();
            choice.put("index", 0);
            if (chat) {
                ObjectNode msg = choice.putObject("message");
                msg.put("role", "assistant");
                msg.put("content", text.toString());
                msg.putNull("refusal");
            } else {
                choice.put("text", text.toString());
            }
            choice.putNull("logprobs");
            choice.put("finish_reason", finishReason);
            out.set("usage", usage());
            return out;
        }

        void stream(Consumer<String> emit, boolean includeUsage) {
            if (chat) {
                ObjectNode first = chunk();
                ObjectNode delta = ((ObjectNode) first.get("choices").get(0)).putObject("delta");
                delta.put("role", "assistant");
                delta.put("content", "");
                emit.accept(first.toString());
            }
            try {
                generate(piece -> {
                    if (piece.isEmpty()) return;
                    ObjectNode c = chunk();
                    ObjectNode choice = (ObjectNode) c.get("choices").get(0);
                    if (chat) choice.putObject("delta").put("content", piece);
                    else choice.put("text", piece);
                    emit.accept(c.toString());
                });
            } catch (ApiException e) {
                emit.accept(Server.errorJson(e).toString());
                return;
            }
            ObjectNode last = chunk();
            ObjectNode choice = (ObjectNode) last.get("choices").get(0);
            if (chat) choice.putObject("delta");
            else choice.put("text", "");
            choice.put("finish_reason", finishReason);
            emit.accept(last.toString());
            if (includeUsage) {
                ObjectNode u = head(chat ? "chat.completion.chunk" : "text_completion");
                u.putArray("choices");
                u.set("usage", usage());
                emit.accept(u.toString());
            }
            emit.accept("[DONE]");
        }

        private ObjectNode chunk() {
            ObjectNode c = head(chat ? "chat.completion.chunk" : "text_completion");
            ObjectNode choice = c.putArray("choices").addObject();
            choice.put("index", 0);
            choice.putNull("logprobs");
            choice.putNull("finish_reason");
            return c;
        }

        private ObjectNode head(String object) {
            ObjectNode o = NODES.objectNode();
            o.put("id", id);
            o.put("object", object);
            o.put("created", created);
            o.put("model", m.id());
            o.putNull("system_fingerprint");
            return o;
        }

        private ObjectNode usage() {
            ObjectNode u = NODES.objectNode();
            u.put("prompt_tokens", prompt.length);
            u.put("completion_tokens", completionTokens);
            u.put("total_tokens", prompt.length + completionTokens);
            return u;
        }
    }

}
