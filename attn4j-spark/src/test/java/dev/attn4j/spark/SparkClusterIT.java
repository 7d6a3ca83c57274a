package dev.attn4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A two-worker standalone cluster on this machine (Spark's Master and Worker classes from the
 * same Maven artifacts, on loopback ports) runs {@code spark embed} submitted with spark-submit
 * ({@code org.apache.spark.deploy.SparkSubmit}) and the job jar, which the executors fetch from
 * the driver: the embeddings equal, bit for bit, those of the same job in local mode run through
 * the launcher's argument file. The workers' Spark "distribution" is a SPARK_HOME whose jars/
 * links the Maven artifacts (attn4j's classes reach the executors only through the job jar).
 */
class SparkClusterIT {
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** SPARK_HOME with RELEASE and jars/ linking every Spark class path entry. */
    static Path sparkHome(Path dir, List<String> classPath) throws IOException {
        Path jars = Files.createDirectories(dir.resolve("jars"));
        Files.writeString(dir.resolve("RELEASE"), "Spark jars from the Maven artifacts (attn4j-spark's SparkClusterIT)\n");
        int n = 0;
        for (String e : classPath) {
            Path p = Path.of(e);
            if (!Files.isRegularFile(p) || !e.endsWith(".jar")) continue;
            Path link = jars.resolve(p.getFileName().toString());
            if (Files.exists(link)) link = jars.resolve((n++) + "-" + p.getFileName());
            Files.createSymbolicLink(link, p);
        }
        return dir;
    }

    /** {id: embedding} of a job's JSON-lines output directory. */
    static Map<Long, float[]> embeddings(Path out) throws IOException {
        Map<Long, float[]> m = new HashMap<>();
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("part-")).toList()) {
                for (String line : Files.readAllLines(f)) {
                    JsonNode j = Cli.JSON.readTree(line);
                    JsonNode e = j.get("embedding");
                    float[] v = null;
                    if (e != null) {
                        v = new float[e.size()];
                        for (int i = 0; i < v.length; i++) v[i] = e.get(i).floatValue();
                    }
                    m.put(j.get("id").asLong(), v);
                }
            }
        }
        return m;
    }

    @Test
    void aStandaloneClusterGivesTheEmbeddingsOfLocalMode(@TempDir Path tmp) throws Exception {
        JobJvm jvm = new JobJvm();
        List<String> texts = Texts.sentences(80, 23);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            s.append("{\"id\":").append(i).append(",\"text\":").append(i == 9 ? "null" : Cli.JSON.writeValueAsString(texts.get(i))).append("}\n");
        }
        Path input = tmp.resolve("in.jsonl");
        Files.writeString(input, s);
        Path home = sparkHome(tmp.resolve("spark-home"), jvm.sparkClassPath);
        Map<String, String> env = Map.of("SPARK_HOME", home.toString(), "SPARK_LOCAL_IP", "127.0.0.1", "SPARK_SCALA_VERSION", "2.13");

        // local mode, as `./attn4j spark embed` runs it
        Path localOut = tmp.resolve("local-out");
        int code = JobJvm.run(jvm.job("1g", "embed", "--input", input.toString(), "--output", localOut.toString(), "--format", "json",
                "--master", "local[2]", "--partitions", "3"), env, tmp.resolve("local.log"), Duration.ofMinutes(4));
        assertThat(code).as(JobJvm.tail(tmp.resolve("local.log"))).isZero();
        Map<Long, float[]> local = embeddings(localOut);
        assertThat(local).hasSize(texts.size());

        List<Process> cluster = new ArrayList<>();
        try {
            int port = freePort();
            String master = "spark://127.0.0.1:" + port;
            Path masterLog = tmp.resolve("master.log");
            Process m = JobJvm.start(jvm.java("256m", jvm.sparkClassPath, "org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1", "--port", Integer.toString(port), "--webui-port", Integer.toString(freePort())), env, masterLog);
            cluster.add(m);
            JobJvm.awaitLog(m, masterLog, "I have been elected leader", Duration.ofMinutes(2));
            for (int w = 1; w <= 2; w++) {
                Path log = tmp.resolve("worker" + w + ".log");
                Process p = JobJvm.start(jvm.java("256m", jvm.sparkClassPath, "org.apache.spark.deploy.worker.Worker",
                        "--host", "127.0.0.1", "--port", Integer.toString(freePort()), "--webui-port", Integer.toString(freePort()),
                        "--cores", "1", "--memory", "1g", "--work-dir", Files.createDirectories(tmp.resolve("work" + w)).toString(),
                        master), env, log);
                cluster.add(p);
            }
            for (int w = 1; w <= 2; w++) {
                JobJvm.awaitLog(cluster.get(w), tmp.resolve("worker" + w + ".log"), "Successfully registered with master", Duration.ofMinutes(2));
            }

            Path clusterOut = tmp.resolve("cluster-out");
            Path submitLog = tmp.resolve("submit.log");
            code = JobJvm.run(jvm.java("512m", jvm.sparkClassPath, "org.apache.spark.deploy.SparkSubmit",
                    "--master", master, "--deploy-mode", "client", "--class", "dev.attn4j.spark.job.SparkJob",
                    "--conf", "spark.executor.memory=640m", "--conf", "spark.driver.host=127.0.0.1",
                    jvm.jobJar.toString(),
                    "embed", "--input", input.toString(), "--output", clusterOut.toString(), "--format", "json", "--partitions", "4"),
                    env, submitLog, Duration.ofMinutes(5));
            assertThat(code).as(JobJvm.tail(submitLog)).isZero();
            String submitted = Files.readString(submitLog);
            assertThat(submitted).contains("\"rows\":" + texts.size()).contains("\"partitions\":4");
            for (int w = 1; w <= 2; w++) {
                try (Stream<Path> apps = Files.list(tmp.resolve("work" + w))) {
                    assertThat(apps.toList()).as("worker %d ran an executor", w).isNotEmpty();
                }
            }
            Map<Long, float[]> onCluster = embeddings(clusterOut);
            assertThat(onCluster.keySet()).isEqualTo(local.keySet());
            assertThat(onCluster.get(9L)).isNull();
            for (long id : local.keySet()) {
                if (id == 9) continue;
                assertThat(onCluster.get(id)).as("id %d", id).containsExactly(local.get(id));
            }
        } finally {
            for (Process p : cluster.reversed()) JobJvm.stop(p);
        }
    }
}
