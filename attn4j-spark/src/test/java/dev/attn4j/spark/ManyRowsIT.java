package dev.attn4j.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Part of the suite (a few minutes on two cores; {@code -Dattn4j.spark.manyRows=0} skips it, another
 * count changes it): 100,000 short synthetic texts run through {@code spark embed}
 * in local[2] in a JVM capped at {@value #HEAP} of heap (driver and executor together): the job
 * ends, every row is written, and the largest heap after a collection (from the GC log) is
 * printed.
 */
class ManyRowsIT {
    static final String HEAP = "512m";

    @Test
    void manyShortTextsRunToTheEndInABoundedHeap(@TempDir Path tmp) throws Exception {
        String n = System.getProperty("attn4j.spark.manyRows", "").trim();
        int rows = n.isEmpty() ? 100_000 : Integer.parseInt(n);
        assumeTrue(rows > 0, "skipped: -Dattn4j.spark.manyRows=0");
        JobJvm jvm = new JobJvm();
        Path input = tmp.resolve("many.jsonl");
        writeShortTexts(input, rows, 7);
        Path out = tmp.resolve("out");
        Path gc = tmp.resolve("gc.log");
        List<String> cmd = jvm.job(HEAP, "embed", "--input", input.toString(), "--output", out.toString(), "--master", "local[2]",
                "--partitions", "4");
        cmd.add(1, "-Xlog:gc:file=" + gc);
        Path log = tmp.resolve("job.log");
        long t0 = System.nanoTime();
        int code = JobJvm.run(cmd, Map.of("SPARK_LOCAL_IP", "127.0.0.1"), log, Duration.ofMinutes(60));
        double wall = (System.nanoTime() - t0) / 1e9;
        assertThat(code).as(JobJvm.tail(log)).isZero();
        String text = Files.readString(log);
        assertThat(text).contains("\"rows\":" + rows + ",").contains("\"partitions\":4");
        System.out.printf("ManyRowsIT: %d rows, -Xmx%s, %.1f s wall (JVM included), largest heap after GC %d MB; summary %s%n", rows,
                HEAP, wall, maxHeapAfterGc(gc), text.lines().filter(l -> l.startsWith("{\"rows\"")).findFirst().orElse("?"));
    }

    /** The short texts of the opt-in runs and scripts/bench-spark-embed.sh: 1 to 6 words each. */
    static void writeShortTexts(Path file, int rows, long seed) throws Exception {
        String[] words = ("the a of to in and is was for on news market search index cluster spark model token batch film plot "
                + "good bad great slow fast price rate team game city").split(" ");
        SplittableRandom rng = new SplittableRandom(seed);
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            for (int i = 0; i < rows; i++) {
                StringBuilder s = new StringBuilder();
                for (int k = 0, m = 1 + rng.nextInt(6); k < m; k++) s.append(k == 0 ? "" : " ").append(words[rng.nextInt(words.length)]);
                w.write("{\"id\":" + i + ",\"text\":\"" + s + "\"}\n");
            }
        }
    }

    /** The largest "after" heap size in a -Xlog:gc file, in MB. */
    static long maxHeapAfterGc(Path gc) throws Exception {
        long max = 0;
        Matcher m = Pattern.compile("->(\\d+)M\\(").matcher(Files.readString(gc));
        while (m.find()) max = Math.max(max, Long.parseLong(m.group(1)));
        return max;
    }
}
