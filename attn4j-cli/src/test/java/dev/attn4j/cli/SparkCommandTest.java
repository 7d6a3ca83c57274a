package dev.attn4j.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.ToolProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code attn4j spark ...} runs the job class in a child JVM from attn4j-spark's argument file
 * (the job itself is tested in attn4j-spark): here a stand-in job class shows that every argument
 * reaches it, that its exit code comes back, and that Spark gets SPARK_LOCAL_IP=127.0.0.1.
 */
class SparkCommandTest {
    @AfterEach
    void clear() {
        System.clearProperty("attn4j.spark.args");
    }

    @Test
    void argumentsAndExitCodePassThroughTheChildJvm(@TempDir Path tmp) throws Exception {
        Path src = tmp.resolve("src/dev/attn4j/spark/job/SparkJob.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, """
                package dev.attn4j.spark.job;
                public class SparkJob {
                    public static void main(String[] args) throws Exception {
                        java.nio.file.Files.writeString(java.nio.file.Path.of(args[0]),
                                String.join("|", args) + "\\n" + System.getenv("SPARK_LOCAL_IP") + "\\n");
                        System.exit(3);
                    }
                }
                """);
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), src.toString())).isZero();
        Path args = tmp.resolve("spark-job.args");
        Files.writeString(args, "-Xss2m\n-cp \"" + classes + "\"\n");
        System.setProperty("attn4j.spark.args", args.toString());
        Path record = tmp.resolve("record.txt");
        CliRun.Output r = CliRun.main(null, "spark", record.toString(), "embed", "--input", "a b.jsonl", "--help");
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        List<String> lines = Files.readAllLines(record);
        assertThat(lines.get(0)).isEqualTo(record + "|embed|--input|a b.jsonl|--help");
        if (System.getenv("SPARK_LOCAL_IP") == null) assertThat(lines.get(1)).isEqualTo("127.0.0.1");
    }

    @Test
    void aMissingArgumentFileSaysHowToBuildIt(@TempDir Path tmp) {
        Path args = tmp.resolve("spark-job.args");
        System.setProperty("attn4j.spark.args", args.toString());
        CliRun.Output r = CliRun.main(null, "spark", "embed", "--input", "x.jsonl", "--output", "y");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains(args + " not found").contains("./build -q -pl attn4j-spark -am package -DskipTests");
    }
}
