package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code attn4j serve} as a process: it serves what the options load, and SIGTERM lets the request in flight finish. */
class ServeCommandTest {
    static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void badOptionsAreOneLineErrors(@TempDir Path tmp) throws Exception {
        Path empty = Files.writeString(tmp.resolve("keys.txt"), "# no keys\n\n");
        CliRun.Output r = CliRun.main(null, "serve", "--api-key-file", empty.toString(), "--embedding-model", "none");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--api-key-file").contains("no keys");
        r = CliRun.main(null, "serve", "--max-queue", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--max-queue must be >= 1");
        r = CliRun.main(null, "serve", "--embedding-model", "none");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("no models to serve");
        r = CliRun.main(null, "serve", "--embedding-model", "none", "--model", tmp.resolve("absent").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("absent");
        assertThat(ServeCommand.id(tmp.toString())).isEqualTo(tmp.getFileName().toString());
        assertThat(ServeCommand.id("Qwen/Qwen2.5-0.5B")).isEqualTo("Qwen/Qwen2.5-0.5B");
    }

    @Test
    void sigtermFinishesTheRequestInFlight(@TempDir Path tmp) throws Exception {
        Path dir = GenerateScoreCommandTest.byteModel(Files.createDirectories(tmp.resolve("tiny-lm")), null);
        Files.copy(GenerateScoreCommandTest.root().resolve("attn4j-cli/src/test/resources/chat/tokenizer_config.json"),
                dir.resolve("tokenizer_config.json"));
        Path keys = Files.writeString(tmp.resolve("keys.txt"), "sk-one\n");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "dev.attn4j.cli.Main", "serve", "--port", "0", "--embedding-model", "none",
                "--model", dir.toString(), "--api-key-file", keys.toString(), "--shutdown-timeout", "60")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            List<String> lines = new ArrayList<>();
            String url = null;
            Pattern serving = Pattern.compile("attn4j: serving \\[tiny-lm] on (http://127\\.0\\.0\\.1:\\d+)");
            for (String line; url == null && (line = out.readLine()) != null; ) {
                lines.add(line);
                Matcher m = serving.matcher(line);
                if (m.find()) url = m.group(1);
            }
            assertThat(url).as(String.join("\n", lines)).isNotNull();
            CompletableFuture.runAsync(() -> out.lines().forEach(lines::add));
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpRequest models = HttpRequest.newBuilder(URI.create(url + "/v1/models")).header("Authorization", "Bearer sk-one").build();
            JsonNode list = JSON.readTree(http.send(models, HttpResponse.BodyHandlers.ofString()).body());
            assertThat(list.get("data").get(0).get("id").asText()).isEqualTo("tiny-lm");
            // a long streamed completion; SIGTERM once its first tokens are out
            HttpRequest gen = HttpRequest.newBuilder(URI.create(url + "/v1/completions")).timeout(Duration.ofSeconds(120))
                    .header("Authorization", "Bearer sk-one").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"abc\", \"max_tokens\": 250, \"temperature\": 1, "
                            + "\"seed\": 1, \"stream\": true}")).build();
            HttpResponse<java.util.stream.Stream<String>> res = http.send(gen, HttpResponse.BodyHandlers.ofLines());
            assertThat(res.statusCode()).isEqualTo(200);
            List<String> events = new ArrayList<>();
            var it = res.body().iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (line.startsWith("data:")) events.add(line);
                if (events.size() == 2) p.destroy();                           // SIGTERM
            }
            assertThat(events.getLast()).isEqualTo("data: [DONE]");
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
    }
}
