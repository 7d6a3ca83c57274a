package dev.attn4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Seeded English-like sentences of mixed length (3 to 120 words, most short), for end-to-end benchmarks. */
final class Sentences {
    private static final String[] WORDS = ("the of and to a in is it you that he was for on are with as his they be at one "
            + "have this from or had by hot word but what some we can out other were all there when up use your how said "
            + "an each she which do their time if will way about many then them write would like so these her long make "
            + "thing see him two has look more day could go come did number sound no most people my over know water than "
            + "call first who may down side been now find any new work part take get place made live where after back "
            + "little only round man year came show every good me give our under name very through just form sentence "
            + "great think say help low line differ turn cause much mean before move right boy old too same tell does set "
            + "three want air well also play small end put home read hand port large spell add even land here must big "
            + "high such follow act why ask men change went light kind off need house picture try us again animal point "
            + "mother world near build self earth father attention transformer embedding tokenizer benchmark throughput "
            + "latency vectorized multithreaded quantization normalization photosynthesis mitochondria Kubernetes "
            + "Zürich naïve café 東京 2024 3.14159 e-mail state-of-the-art don't isn't").split(" ");

    private Sentences() {
    }

    static List<String> generate(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5eed5eedL);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // Mostly short sentences, some paragraphs (a few past 256 tokens, which truncation cuts).
            int words = switch (rng.nextInt(10)) {
                case 0 -> 60 + rng.nextInt(180);
                case 1, 2 -> 25 + rng.nextInt(35);
                default -> 3 + rng.nextInt(22);
            };
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < words; w++) {
                String word = WORDS[rng.nextInt(WORDS.length)];
                if (w == 0) word = Character.toUpperCase(word.charAt(0)) + word.substring(1);
                if (w > 0) sb.append(rng.nextInt(12) == 0 ? ", " : " ");
                sb.append(word);
            }
            sb.append(rng.nextInt(5) == 0 ? "?" : ".");
            out.add(sb.toString());
        }
        return out;
    }
}
