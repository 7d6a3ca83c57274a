package dev.attn4j.serve;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import dev.attn4j.models.sentence.SentenceTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The official OpenAI Java SDK against the server on loopback, with an API key. */
class OpenAiClientTest {
    @Test
    void embeddingsAndStreamedChatThroughTheOfficialClient(@TempDir Path tmp) throws Exception {
        ServeOptions o = ServeOptions.defaults().withPort(0).withApiKeys(Set.of("sk-test"));
        try (Server s = Server.start(o, List.of(TestModels.embedding(), TestModels.chat(tmp)));
             SentenceTransformer reference = SentenceTransformer.load(TestModels.defaultModelDir())) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(s.url() + "/v1").apiKey("sk-test").maxRetries(0).build();
            // the SDK asks for base64 and decodes it
            CreateEmbeddingResponse r = client.embeddings().create(EmbeddingCreateParams.builder()
                    .model("all-MiniLM-L6-v2").input("Retrieval-augmented generation calls this endpoint.").build());
            List<Float> got = r.data().getFirst().embedding();
            float[] expected = reference.encode("Retrieval-augmented generation calls this endpoint.");
            assertThat(got).hasSize(expected.length);
            for (int i = 0; i < expected.length; i++) assertThat((double) Math.abs(got.get(i) - expected[i])).isLessThanOrEqualTo(1e-5);
            assertThat(r.usage().promptTokens()).isEqualTo(reference.tokenize("Retrieval-augmented generation calls this endpoint.").length());
            // chat: the same greedy text streamed and whole
            ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("tiny-chat")
                    .addSystemMessage("You are terse.").addUserMessage("Hi there").maxCompletionTokens(16).temperature(0.0).build();
            ChatCompletion whole = client.chat().completions().create(params);
            String text = whole.choices().getFirst().message().content().orElse("");
            StringBuilder streamed = new StringBuilder();
            int chunks = 0;
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                for (ChatCompletionChunk c : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                    chunks++;
                    for (ChatCompletionChunk.Choice ch : c.choices()) ch.delta().content().ifPresent(streamed::append);
                }
            }
            assertThat(chunks).isGreaterThan(2);
            assertThat(streamed.toString()).isEqualTo(text);
            assertThat(whole.usage().orElseThrow().completionTokens()).isBetween(1L, 16L);
            // an error object reaches the client as its typed exception, naming the field
            assertThatThrownBy(() -> client.embeddings().create(EmbeddingCreateParams.builder().model("all-MiniLM-L6-v2")
                    .input("x").dimensions(7).build()))
                    .isInstanceOf(BadRequestException.class).hasMessageContaining("dimensions");
            OpenAIClient wrongKey = OpenAIOkHttpClient.builder().baseUrl(s.url() + "/v1").apiKey("nope").maxRetries(0).build();
            assertThatThrownBy(() -> wrongKey.models().list()).isInstanceOf(com.openai.errors.UnauthorizedException.class);
            assertThat(client.models().list().data()).extracting(m -> m.id()).containsExactly("all-MiniLM-L6-v2", "tiny-chat");
        }
    }
}
