package dev.attn4j.hub;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parsing and validation of {@code org/name[@revision]}. */
class ModelIdTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    @Test
    void parsesOrgNameAndRevision() {
        ModelId id = ModelId.parse("sentence-transformers/all-MiniLM-L6-v2");
        assertThat(id.org()).isEqualTo("sentence-transformers");
        assertThat(id.name()).isEqualTo("all-MiniLM-L6-v2");
        assertThat(id.revision()).isEqualTo("main");
        assertThat(id.repoId()).isEqualTo("sentence-transformers/all-MiniLM-L6-v2");
        assertThat(id.cacheFolderName()).isEqualTo("models--sentence-transformers--all-MiniLM-L6-v2");
        assertThat(id.revisionIsCommit()).isFalse();

        ModelId pr = ModelId.parse("google-bert/bert-base-uncased@refs/pr/12");
        assertThat(pr.revision()).isEqualTo("refs/pr/12");
        String sha = "0123456789abcdef0123456789abcdef01234567";
        assertThat(ModelId.parse("a/b@" + sha).revisionIsCommit()).isTrue();
        assertThat(ModelId.parse("a/b@" + sha.toUpperCase()).revisionIsCommit()).isFalse();

        ModelId legacy = ModelId.parse("bert-base-uncased@v1.0");
        assertThat(legacy.org()).isNull();
        assertThat(legacy.repoId()).isEqualTo("bert-base-uncased");
        assertThat(legacy.cacheFolderName()).isEqualTo("models--bert-base-uncased");
        assertThat(legacy.revision()).isEqualTo("v1.0");
    }

    @Test
    void rejectsMalformedIdsWithTheReason() {
        assertThatThrownBy(() -> ModelId.parse("")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> ModelId.parse("a/b/c")).hasMessageContaining("more than one '/'");
        assertThatThrownBy(() -> ModelId.parse("a/b@")).hasMessageContaining("empty revision");
        assertThatThrownBy(() -> ModelId.parse("/b")).hasMessageContaining("organisation is empty");
        assertThatThrownBy(() -> ModelId.parse("a/")).hasMessageContaining("name is empty");
        assertThatThrownBy(() -> ModelId.parse("a/b c")).hasMessageContaining("'b c'").hasMessageContaining("may only contain");
        assertThatThrownBy(() -> ModelId.parse("a--x/b")).hasMessageContaining("'--'");
        assertThatThrownBy(() -> ModelId.parse("a/b..c")).hasMessageContaining("'..'");
        assertThatThrownBy(() -> ModelId.parse("a/-b")).hasMessageContaining("start and end");
        assertThatThrownBy(() -> ModelId.parse("a/b@x y")).hasMessageContaining("revision 'x y'").hasMessageContaining("U+0020");
        assertThatThrownBy(() -> ModelId.parse("a/b@../x")).hasMessageContaining("'..'");
        assertThatThrownBy(() -> ModelId.parse("a/b@/x")).hasMessageContaining("empty path segment");
        assertThatThrownBy(() -> ModelId.parse("a/" + "n".repeat(97))).hasMessageContaining("longer than 96");
        assertThatThrownBy(() -> ModelId.parse("a/b@c@d")).hasMessageContaining("'@'");
    }

    @Test
    void randomValidIdsRoundTripAndRandomJunkFailsCleanly() {
        String alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        String inner = alnum + "-_.";
        for (int i = 0; i < 500; i++) {
            String org = randomPart(alnum, inner);
            String name = randomPart(alnum, inner);
            String rev = rng.nextBoolean() ? "main" : randomPart(alnum, inner) + (rng.nextBoolean() ? "/" + randomPart(alnum, inner) : "");
            String text = org + "/" + name + "@" + rev;
            ModelId id = ModelId.parse(text);
            assertThat(id.toString()).as("seed %d", seed).isEqualTo(text);
            assertThat(ModelId.parse(id.toString())).as("seed %d", seed).isEqualTo(id);
        }
        String junkChars = "ab/@.-_ \t\\:~^*?\"<>|%é" + "\u0000";
        for (int i = 0; i < 2000; i++) {
            StringBuilder sb = new StringBuilder();
            int len = rng.nextInt(12);
            for (int k = 0; k < len; k++) {
                sb.append(junkChars.charAt(rng.nextInt(junkChars.length())));
            }
            try {
                ModelId id = ModelId.parse(sb.toString());
                assertThat(ModelId.parse(id.toString())).as("seed %d, input '%s'", seed, sb).isEqualTo(id);
            } catch (IllegalArgumentException expected) {
                assertThat(expected.getMessage()).as("seed %d", seed).isNotBlank();
            }
        }
    }

    private String randomPart(String first, String inner) {
        int len = 1 + rng.nextInt(20);
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < len; k++) {
            boolean edge = k == 0 || k == len - 1;
            String pool = edge ? first : inner;
            char c = pool.charAt(rng.nextInt(pool.length()));
            if (!edge && (c == '-' || c == '.') && sb.charAt(sb.length() - 1) == c) {
                c = 'x';
            }
            sb.append(c);
        }
        return sb.toString();
    }
}
