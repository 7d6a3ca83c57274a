package dev.attn4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.models.sentence.SentenceTransformer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The routes of a server with one model of each kind, over real HTTP on loopback. */
class ServerTest {
    @TempDir
    static Path tmp;
    static Server server;
    static String url;
    static SentenceTransformer reference;

    @BeforeAll
    static void start() throws Exception {
        List<ServedModel> models = List.of(TestModels.embedding(), TestModels.chat(tmp), TestModels.classifier(tmp), TestModels.seq2seq());
        server = Server.start(ServeOptions.defaults().withPort(0), models);
        url = server.url();
        reference = SentenceTransformer.load(TestModels.defaultModelDir());
    }

    @AfterAll
    static void stop() {
        if (server != null) server.stop();
        if (reference != null) reference.close();
    }

    static double maxDiff(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    static float[] floats(JsonNode a) {
        float[] v = new float[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) a.get(i).asDouble();
        return v;
    }

    @Test
    void modelsListsEveryModelWithItsKind() {
        Http.Reply r = Http.get(url + "/v1/models");
        assertThat(r.status()).isEqualTo(200);
        JsonNode data = r.json().get("data");
        assertThat(data).hasSize(4);
        assertThat(data.findValuesAsText("id")).containsExactly("all-MiniLM-L6-v2", "tiny-chat", "minilm-classifier", "tiny-dates");
        assertThat(data.findValuesAsText("kind")).containsExactly("embedding", "chat", "classifier", "seq2seq");
        assertThat(data.get(0).get("object").asText()).isEqualTo("model");
        assertThat(Http.get(url + "/v1/models/tiny-chat").json().get("kind").asText()).isEqualTo("chat");
        assertThat(Http.get(url + "/v1/models/nope").status()).isEqualTo(404);
        assertThat(Http.get(url + "/health").json().get("status").asText()).isEqualTo("ok");
    }

    @Test
    void embeddingsEqualThePipelineAsFloatsAndBase64() {
        List<String> texts = List.of("The cat sat on the mat.", "Sentence embeddings over HTTP", "");
        Http.Reply r = Http.post(url + "/v1/embeddings", "{\"input\": [\"The cat sat on the mat.\", \"Sentence embeddings over HTTP\", \"\"],"
                + " \"model\": \"all-MiniLM-L6-v2\", \"user\": \"u1\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode j = r.json();
        assertThat(j.get("object").asText()).isEqualTo("list");
        assertThat(j.get("model").asText()).isEqualTo("all-MiniLM-L6-v2");
        List<float[]> expected = reference.encode(texts);
        int tokens = 0;
        for (String t : texts) tokens += reference.tokenize(t).length();
        assertThat(j.get("usage").get("prompt_tokens").asInt()).isEqualTo(tokens);
        assertThat(j.get("usage").get("total_tokens").asInt()).isEqualTo(tokens);
        for (int i = 0; i < texts.size(); i++) {
            JsonNode e = j.get("data").get(i);
            assertThat(e.get("index").asInt()).isEqualTo(i);
            assertThat(e.get("object").asText()).isEqualTo("embedding");
            assertThat(maxDiff(floats(e.get("embedding")), expected.get(i))).isLessThanOrEqualTo(1e-5);
        }
        // base64: little-endian float32, one string per input; a single string input
        Http.Reply b = Http.post(url + "/v1/embeddings", "{\"input\": \"The cat sat on the mat.\", \"encoding_format\": \"base64\", \"dimensions\": 384}");
        assertThat(b.status()).as(b.body()).isEqualTo(200);
        byte[] raw = Base64.getDecoder().decode(b.json().get("data").get(0).get("embedding").asText());
        float[] v = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        assertThat(maxDiff(v, expected.get(0))).isLessThanOrEqualTo(1e-5);
        // inputs longer than the model's 256 tokens are truncated as `embed` truncates them
        String longText = "word ".repeat(400);
        JsonNode lj = Http.post(url + "/v1/embeddings", "{\"input\": \"" + longText + "\"}").json();
        assertThat(lj.get("usage").get("prompt_tokens").asInt()).isEqualTo(256);
        assertThat(maxDiff(floats(lj.get("data").get(0).get("embedding")), reference.encode(longText))).isLessThanOrEqualTo(1e-5);
    }

    @Test
    void badRequestsGetOpenAiErrorObjectsNamingTheField() {
        record Case(String body, String param, String says) {
        }
        for (Case c : List.of(
                new Case("{\"input\": \"x\", \"temperature\": 1}", "temperature", "unknown field"),
                new Case("{\"input\": 5}", "input", "must be a string or an array of strings"),
                new Case("{\"input\": [\"a\", 3]}", "input", "'input[1]' must be a string"),
                new Case("{}", "input", "'input' is required"),
                new Case("{\"input\": []}", "input", "empty array"),
                new Case("{\"input\": \"x\", \"dimensions\": 128}", "dimensions", "384-dimensional"),
                new Case("{\"input\": \"x\", \"encoding_format\": \"int8\"}", "encoding_format", "\"float\" or \"base64\""),
                new Case("{\"input\": \"x\", \"model\": \"tiny-chat\"}", "model", "is a chat model"),
                new Case("{\"input\": [[1, 2]]}", "input", "token ids"))) {
            Http.Reply r = Http.post(url + "/v1/embeddings", c.body());
            assertThat(r.status()).as(c.body() + " -> " + r.body()).isEqualTo(400);
            assertThat(r.error("type")).isEqualTo("invalid_request_error");
            assertThat(r.error("param")).as(c.body()).isEqualTo(c.param());
            assertThat(r.error("message")).as(c.body()).contains(c.says());
        }
        Http.Reply bad = Http.post(url + "/v1/embeddings", "{\"input\": \"x\",");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.error("message")).contains("not valid JSON");
        Http.Reply unknown = Http.post(url + "/v1/embeddings", "{\"input\": \"x\", \"model\": \"no-such-model\"}");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.error("param")).isEqualTo("model");
        Http.Reply route = Http.get(url + "/v2/nothing");
        assertThat(route.status()).isEqualTo(404);
        assertThat(route.error("message")).contains("/v2/nothing");
        assertThat(Http.get(url + "/v1/embeddings").status()).isEqualTo(405);
        // the body limit: 8 MiB by default
        Http.Reply big = Http.post(url + "/v1/embeddings", "{\"input\": \"" + "a".repeat(9 << 20) + "\"}");
        assertThat(big.status()).isEqualTo(413);
        assertThat(big.error("message")).contains("--max-body-bytes");
    }

    @Test
    void concurrentRequestsAreBatchedAndEachGetsItsLoneResult() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 48; i++) texts.add("request number " + i + (i % 3 == 0 ? " with a somewhat longer tail of words" : ""));
        List<float[]> lone = new ArrayList<>();
        for (String t : texts) lone.add(reference.encode(t));
        try (ExecutorService pool = Executors.newFixedThreadPool(24)) {
            List<Future<Http.Reply>> replies = new ArrayList<>();
            for (String t : texts) replies.add(pool.submit(() -> Http.post(url + "/v1/embeddings", "{\"input\": \"" + t + "\"}")));
            for (int i = 0; i < texts.size(); i++) {
                Http.Reply r = replies.get(i).get();
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                assertThat(maxDiff(floats(r.json().get("data").get(0).get("embedding")), lone.get(i))).as(texts.get(i)).isLessThanOrEqualTo(1e-5);
            }
        }
        String metrics = Http.get(url + "/metrics").body();
        assertThat(metrics).contains("attn4j_requests_total{route=\"/v1/embeddings\",status=\"200\"}")
                .contains("attn4j_batch_requests_count{model=\"all-MiniLM-L6-v2\"}")
                .contains("attn4j_queue_depth{model=\"all-MiniLM-L6-v2\"}")
                .contains("attn4j_tokens_per_second");
        // some batch held more than one request: the +Inf bucket exceeds the le="1" bucket
        long ones = metricValue(metrics, "attn4j_batch_requests_bucket{model=\"all-MiniLM-L6-v2\",le=\"1\"}");
        long all = metricValue(metrics, "attn4j_batch_requests_count{model=\"all-MiniLM-L6-v2\"}");
        assertThat(all).isGreaterThan(ones);
    }

    static long metricValue(String text, String series) {
        for (String line : text.split("\n")) if (line.startsWith(series + " ")) return Long.parseLong(line.substring(series.length() + 1).trim());
        throw new AssertionError("no series " + series + " in\n" + text);
    }

    @Test
    void classifyGivesLabelsAndScores() {
        Http.Reply r = Http.post(url + "/v1/classify", "{\"input\": [\"I loved it\", \"Awful.\"], \"top_k\": 2}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode d = r.json().get("data");
        assertThat(d).hasSize(2);
        for (JsonNode c : d) {
            assertThat(c.get("label").asText()).isIn("negative", "neutral", "positive");
            assertThat(c.get("scores").size()).isEqualTo(2);
            assertThat(c.get("scores").get(c.get("label").asText()).asDouble()).isEqualTo(c.get("score").asDouble());
        }
        Http.Reply pair = Http.post(url + "/v1/classify", "{\"input\": [\"a\"], \"text_pair\": [\"b\", \"c\"]}");
        assertThat(pair.status()).isEqualTo(400);
        assertThat(pair.error("param")).isEqualTo("text_pair");
    }

    @Test
    void tokenizeShowsWhatTheModelReads() {
        JsonNode j = Http.post(url + "/tokenize", "{\"model\": \"all-MiniLM-L6-v2\", \"text\": \"Hello world\"}").json();
        assertThat(j.get("tokens").findValuesAsText("")).isEmpty();
        List<String> tokens = new ArrayList<>();
        j.get("tokens").forEach(t -> tokens.add(t.asText()));
        assertThat(tokens).containsExactly("[CLS]", "hello", "world", "[SEP]");
        assertThat(j.get("count").asInt()).isEqualTo(4);
        assertThat(j.get("max_model_len").asInt()).isEqualTo(256);
        JsonNode c = Http.post(url + "/tokenize", "{\"model\": \"tiny-chat\", \"text\": \"h\u00e9\"}").json();
        assertThat(c.get("ids")).hasSize(3);                                   // h, two bytes of é
        Http.Reply none = Http.post(url + "/tokenize", "{\"text\": \"x\"}");
        assertThat(none.status()).isEqualTo(400);
        assertThat(none.error("message")).contains("'model' is required");
    }

    @Test
    void attentionAsJsonAndBase64Agree() {
        JsonNode j = Http.post(url + "/attention", "{\"model\": \"all-MiniLM-L6-v2\", \"text\": \"The cat sat.\"}").json();
        int t = j.get("tokens").size();
        assertThat(t).isEqualTo(6);                                           // [CLS] the cat sat . [SEP]
        JsonNode a = j.get("attentions");
        assertThat(a).hasSize(6);                                             // layers
        assertThat(a.get(0)).hasSize(12);                                     // heads
        assertThat(a.get(0).get(0)).hasSize(t);
        for (JsonNode row : a.get(3).get(5)) {
            double sum = 0;
            for (JsonNode v : row) sum += v.asDouble();
            assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
        }
        JsonNode b = Http.post(url + "/attention", "{\"model\": \"all-MiniLM-L6-v2\", \"text\": \"The cat sat.\", \"encoding\": \"base64\"}").json();
        JsonNode bt = b.get("attentions");
        assertThat(bt.get("dtype").asText()).isEqualTo("float16");
        assertThat(bt.get("shape").toString()).isEqualTo("[6,12," + t + "," + t + "]");
        byte[] raw = Base64.getDecoder().decode(bt.get("data").asText());
        assertThat(raw).hasSize(6 * 12 * t * t * 2);
        ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        for (int l = 0; l < 6; l++) for (int h = 0; h < 12; h++) for (int q = 0; q < t; q++) for (int k = 0; k < t; k++) {
            float half = Float.float16ToFloat(buf.getShort(2 * at++));
            assertThat((double) half).isCloseTo(a.get(l).get(h).get(q).get(k).asDouble(), org.assertj.core.data.Offset.offset(1e-3));
        }
        // decoder-only: causal, so each query's weights on later keys are 0
        JsonNode d = Http.post(url + "/attention", "{\"model\": \"tiny-chat\", \"text\": \"abc\"}").json();
        assertThat(d.get("attentions").get(1).get(0).get(0).get(2).asDouble()).isEqualTo(0.0);
        // classifier: a pair, and attributions
        JsonNode c = Http.post(url + "/attention", "{\"model\": \"minilm-classifier\", \"text\": \"good\", \"text_pair\": \"bad\"}").json();
        assertThat(c.get("tokens").toString()).isEqualTo("[\"[CLS]\",\"good\",\"[SEP]\",\"bad\",\"[SEP]\"]");
        assertThat(c.get("attributions").get("gradient_x_input")).hasSize(5);
        assertThat(c.get("attributions").get("attention_rollout")).hasSize(5);
        // encoder-decoder: cross-attention of a given target over the source characters
        JsonNode s = Http.post(url + "/attention", "{\"model\": \"tiny-dates\", \"source\": \"May 1\", \"target\": \"05\"}").json();
        assertThat(s.get("tokens")).hasSize(5);
        assertThat(s.get("target_tokens").toString()).isEqualTo("[\"0\",\"5\",\"EOS\"]");
        JsonNode x = s.get("cross_attentions");
        assertThat(x).hasSize(2);
        assertThat(x.get(0).get(0)).hasSize(3);
        assertThat(x.get(0).get(0).get(0)).hasSize(5);
        // without a target the model decodes one
        JsonNode decoded = Http.post(url + "/attention", "{\"model\": \"tiny-dates\", \"source\": \"May 1\"}").json();
        int rows = decoded.get("target_tokens").size();
        assertThat(decoded.get("target_tokens").get(rows - 1).asText()).isEqualTo("EOS");
        assertThat(decoded.get("cross_attentions").get(1).get(1)).hasSize(rows);
        assertThat(decoded.has("output")).isTrue();
        Http.Reply wrong = Http.post(url + "/attention", "{\"model\": \"all-MiniLM-L6-v2\", \"source\": \"x\"}");
        assertThat(wrong.status()).isEqualTo(400);
        assertThat(wrong.error("param")).isEqualTo("source");
    }

    @Test
    void chatCompletionsNonStreamingAndStreaming() {
        String req = "{\"model\": \"tiny-chat\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, "
                + "{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 12, \"temperature\": 0";
        Http.Reply r = Http.post(url + "/v1/chat/completions", req + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode j = r.json();
        assertThat(j.get("object").asText()).isEqualTo("chat.completion");
        JsonNode choice = j.get("choices").get(0);
        assertThat(choice.get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(choice.get("finish_reason").asText()).isIn("stop", "length");
        int completion = j.get("usage").get("completion_tokens").asInt();
        assertThat(completion).isBetween(1, 12);
        String text = choice.get("message").get("content").asText();
        // streaming gives the same greedy text in pieces, then [DONE]
        Http.Reply s = Http.post(url + "/v1/chat/completions", req + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
        assertThat(s.status()).isEqualTo(200);
        assertThat(s.raw().headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        List<String> events = new ArrayList<>();
        for (String line : s.body().split("\n")) if (line.startsWith("data:")) events.add(line.substring(5).trim());
        assertThat(events.getLast()).isEqualTo("[DONE]");
        assertThat(s.body()).contains("data: [DONE]\n\n");
        StringBuilder streamed = new StringBuilder();
        String finish = null;
        JsonNode usage = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode c;
            try {
                c = TestModels.JSON.readTree(e);
            } catch (Exception ex) {
                throw new AssertionError(e, ex);
            }
            assertThat(c.get("object").asText()).isEqualTo("chat.completion.chunk");
            if (c.has("usage") && !c.get("usage").isNull()) usage = c.get("usage");
            if (c.get("choices").isEmpty()) continue;
            JsonNode delta = c.get("choices").get(0).get("delta");
            if (delta.has("content")) streamed.append(delta.get("content").asText());
            if (!c.get("choices").get(0).get("finish_reason").isNull()) finish = c.get("choices").get(0).get("finish_reason").asText();
        }
        assertThat(streamed.toString()).isEqualTo(text);
        assertThat(finish).isEqualTo(choice.get("finish_reason").asText());
        assertThat(usage).isNotNull();
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(completion);
        // /v1/completions with a stop string: the text ends before it
        JsonNode base = Http.post(url + "/v1/completions", "{\"prompt\": \"abc\", \"max_tokens\": 20, \"temperature\": 0}").json();
        String full = base.get("choices").get(0).get("text").asText();
        assertThat(base.get("object").asText()).isEqualTo("text_completion");
        if (full.length() >= 4 && full.substring(0, 4).chars().allMatch(ch -> ch > ' ' && ch < 127)) {
            String stop = full.substring(2, 4);
            JsonNode cut = Http.post(url + "/v1/completions", "{\"prompt\": \"abc\", \"max_tokens\": 20, \"temperature\": 0, \"stop\": "
                    + TestModels.JSON.valueToTree(stop) + "}").json();
            String got = cut.get("choices").get(0).get("text").asText();
            assertThat(full).startsWith(got);
            assertThat(got).doesNotContain(stop);
            assertThat(cut.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");
        }
        Http.Reply n = Http.post(url + "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 2}");
        assertThat(n.status()).isEqualTo(400);
        assertThat(n.error("param")).isEqualTo("n");
        Http.Reply tool = Http.post(url + "/v1/chat/completions", "{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]}");
        assertThat(tool.error("param")).isEqualTo("messages[0].role");
        Http.Reply tooMany = Http.post(url + "/v1/completions", "{\"prompt\": \"abc\", \"max_tokens\": 1000}");
        assertThat(tooMany.status()).isEqualTo(400);
        assertThat(tooMany.error("param")).isEqualTo("max_tokens");
    }

    @Test
    void explorerPageIsServedFromTheJar() {
        Http.Reply page = Http.get(url + "/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.body()).contains("id=\"text\"").contains("id=\"run\"").contains("explorer.js").doesNotContain("http://", "https://");
        assertThat(Http.get(url + "/explorer.js").body()).contains("/attention");
    }
}
