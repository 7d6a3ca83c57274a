package dev.attn4j.spark.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.spark.EncoderStage;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.Option;
import scala.concurrent.Await;
import scala.concurrent.duration.Duration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_json;

/**
 * What {@code spark embed} and {@code spark classify} share: reading the input table, the
 * session, the stage over the text column, writing the output and the summary line. A local
 * output is written into a temporary sibling directory and renamed into place when the job has
 * succeeded, so the output path holds a whole result or nothing (an old output replaced with
 * {@code --overwrite} stays until then).
 */
abstract class TextJob implements Callable<Integer> {
    static final List<String> FORMATS = List.of("parquet", "json", "csv");
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--input", required = true, paramLabel = "PATH", order = 1,
            description = "Input table: a file or a directory of part files (.jsonl/.json JSON lines, .parquet, .csv with a header).")
    String input;

    @Option(names = "--output", required = true, paramLabel = "PATH", order = 2,
            description = "Output directory (one part file per partition).")
    String output;

    @Option(names = "--format", paramLabel = "F", defaultValue = "parquet", order = 3,
            description = "Output format: parquet, json (JSON lines) or csv (default ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--input-format", paramLabel = "F", order = 4,
            description = "Input format: parquet, json or csv (default: from the input's extension).")
    String inputFormat;

    @Option(names = "--text-column", paramLabel = "NAME", defaultValue = "text", order = 5,
            description = "Column of the texts (default ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(names = "--id-column", paramLabel = "NAME", order = 6,
            description = "Column copied to the output to join on (default: id, when the input has it).")
    String idColumn;

    @Option(names = "--model", paramLabel = "M", order = 30, description = "Model directory, or a Hugging Face id resolved on the "
            + "driver (default for embed: the built-in all-MiniLM-L6-v2). On a cluster: a path every executor can read, or the "
            + "name of a directory shipped with --archives.")
    String model;

    @Option(names = "--master", paramLabel = "URL", order = 31,
            description = "Spark master: local[*] (default; spark-submit's when run through it), local[N], spark://HOST:PORT.")
    String master;

    @Option(names = "--partitions", paramLabel = "N", order = 32, description = "Repartition the input into N partitions "
            + "(N part files; default: the input's own, raised to Spark's default parallelism when it has fewer).")
    Integer partitions;

    @Option(names = "--overwrite", order = 33, description = "Replace an existing output (default: an existing output is an error).")
    boolean overwrite;

    @Option(names = "--ui", order = 34, description = "Start Spark's web UI (on loopback; default: off).")
    boolean ui;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32", order = 35,
            description = "Texts per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-length", paramLabel = "N", order = 36, description = "Tokens per text (default: the model's limit).")
    Integer maxLength;

    @Option(names = "--threads-per-task", paramLabel = "N", defaultValue = "1", order = 37, description = "attn4j kernel threads "
            + "per Spark task (default ${DEFAULT-VALUE}: Spark's task slots use one core each).")
    int threadsPerTask;

    /** The stage over {@code textColumn}, its model set from {@link #model} (already resolved). */
    abstract EncoderStage stage(String textColumn);

    /** The columns the stage adds, in output order. */
    abstract List<String> outputColumns();

    @Override
    public Integer call() throws Exception {
        format = checkFormat("--format", format);
        String inFormat = inputFormat != null ? checkFormat("--input-format", inputFormat) : formatOf(input);
        if (partitions != null && partitions < 1) throw new IllegalArgumentException("--partitions must be >= 1, got " + partitions);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        if (maxLength != null && maxLength < 1) throw new IllegalArgumentException("--max-length must be >= 1, got " + maxLength);
        if (threadsPerTask < 1) throw new IllegalArgumentException("--threads-per-task must be >= 1, got " + threadsPerTask);
        Path localIn = localPath(input), localOut = localPath(output);
        if (localIn != null && !Files.exists(localIn)) throw new IllegalArgumentException("--input " + input + ": no such file or directory");
        if (localIn != null && localOut != null && localIn.toAbsolutePath().normalize().equals(localOut.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--output is the same path as --input");
        }
        if (localOut != null && Files.exists(localOut) && !overwrite) {
            throw new IllegalArgumentException("--output " + output + " exists; give --overwrite to replace it");
        }
        if (model != null) model = resolveModel(model);

        boolean ownSession = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = session();
        try {
            Dataset<Row> in = read(spark, inFormat);
            StructType schema = in.schema();
            List<String> names = Arrays.asList(schema.fieldNames());
            if (!names.contains(textColumn)) {
                throw new IllegalArgumentException("--input " + input + " has no column '" + textColumn + "' (columns: "
                        + String.join(", ", names) + "); give --text-column");
            }
            String id = idColumn != null ? idColumn : "id";
            if (!names.contains(id)) {
                if (idColumn != null) {
                    throw new IllegalArgumentException("--input " + input + " has no column '" + idColumn + "' (columns: "
                            + String.join(", ", names) + ")");
                }
                System.err.println("attn4j: the input has no 'id' column; the output has the text and " + String.join(", ", outputColumns())
                        + " only (give --id-column to keep another)");
                id = null;
            }
            if (id != null && id.equals(textColumn)) throw new IllegalArgumentException("--id-column and --text-column are the same");
            List<Column> keep = new ArrayList<>();
            if (id != null) keep.add(col(id));
            keep.add(col(textColumn));
            in = in.select(keep.toArray(Column[]::new));
            int parallelism = spark.sparkContext().defaultParallelism();
            int inputPartitions = in.rdd().getNumPartitions();
            if (partitions != null) in = in.repartition(partitions);
            else if (inputPartitions < parallelism) in = in.repartition(parallelism);

            EncoderStage stage = stage(textColumn);
            stage.set(stage.batchSize(), batchSize);
            stage.set(stage.threadsPerTask(), threadsPerTask);
            if (maxLength != null) stage.set(stage.maxLength(), maxLength);
            Dataset<Row> out = stage.transform(in);
            if (format.equals("csv")) out = jsonEncodeNested(out);
            int parts = out.rdd().getNumPartitions();
            Observation observed = new Observation("attn4j");
            out = out.observe(observed, count(lit(1)).as("rows"));

            long t0 = System.nanoTime();
            write(out, localOut);
            double seconds = (System.nanoTime() - t0) / 1e9;
            Row metrics = Await.result(observed.future(), Duration.create(60, TimeUnit.SECONDS));
            long rows = metrics.getLong(0);
            ObjectNode summary = JSON.createObjectNode();
            summary.put("rows", rows);
            summary.put("seconds", Math.round(seconds * 1000) / 1000.0);
            summary.put("rowsPerSecond", Math.round(rows / Math.max(seconds, 1e-9) * 10) / 10.0);
            summary.put("partitions", parts);
            System.out.println(JSON.writeValueAsString(summary));
            System.out.flush();
            return 0;
        } finally {
            if (ownSession) spark.stop();
        }
    }

    private SparkSession session() {
        String m = master;
        if (m == null) m = System.getProperty("spark.master", "local[*]");              // spark-submit passes its --master so
        SparkConf conf = new SparkConf().setAppName("attn4j spark " + getClass().getSimpleName().replace("Job", "").toLowerCase(Locale.ROOT))
                .setMaster(m)
                .set("spark.ui.enabled", Boolean.toString(ui))
                .set("spark.ui.showConsoleProgress", "true");
        if (m.startsWith("local")) {
            // Everything is in this JVM: nothing listens beyond loopback.
            conf.setIfMissing("spark.driver.host", "127.0.0.1").setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        } else if (isLoopbackMaster(m)) {
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
        } else if ("127.0.0.1".equals(System.getenv("SPARK_LOCAL_IP")) && System.getenv("ATTN4J_SPARK_LOOPBACK") != null) {
            // The launcher set SPARK_LOCAL_IP to keep the web UI on loopback; executors elsewhere must still reach the driver.
            conf.setIfMissing("spark.driver.bindAddress", "0.0.0.0");
            try {
                conf.setIfMissing("spark.driver.host", java.net.InetAddress.getLocalHost().getCanonicalHostName());
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException("cannot name this host for the cluster's executors; set spark.driver.host", e);
            }
        }
        if (!m.startsWith("local") && System.getProperty("spark.jars") == null) {
            Path jar = ownJar();
            if (jar != null) conf.set("spark.jars", jar.toString());                     // the executors' copy of attn4j
        }
        SparkSession s = SparkSession.builder().config(conf).getOrCreate();
        if (ui) s.sparkContext().uiWebUrl().foreach(url -> {
            System.err.println("attn4j: Spark UI at " + url);
            return null;
        });
        return s;
    }

    private static boolean isLoopbackMaster(String m) {
        if (!m.startsWith("spark://")) return false;
        String host = m.substring("spark://".length()).split("[:,/]")[0];
        return host.equals("localhost") || host.startsWith("127.");
    }

    /** The job jar this class was loaded from, or null (classes from a directory, as in the tests). */
    static Path ownJar() {
        try {
            Path p = Path.of(TextJob.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(p) && p.toString().endsWith(".jar") ? p : null;
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    private Dataset<Row> read(SparkSession spark, String fmt) {
        DataFrameReader r = spark.read().option("mode", "FAILFAST");                   // a malformed record fails the job, named
        return switch (fmt) {
            case "json" -> r.json(input);
            case "csv" -> r.option("header", true).option("multiLine", true).option("escape", "\"").csv(input);
            default -> r.parquet(input);
        };
    }

    private void write(Dataset<Row> out, Path localOut) throws IOException {
        var w = out.write().format(format);
        if (format.equals("csv")) w = w.option("header", true).option("escape", "\"");
        if (localOut == null) {
            w.mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).save(output);
            return;
        }
        Path target = localOut.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path temp = parent.resolve("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            w.mode(SaveMode.ErrorIfExists).save(temp.toUri().toString());
            if (Files.exists(target)) {
                if (!overwrite) throw new IllegalArgumentException("--output " + output + " exists; give --overwrite to replace it");
                Path old = parent.resolve("." + target.getFileName() + ".old-" + UUID.randomUUID());
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                deleteTree(old);
            } else {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            deleteTree(temp);
        }
    }

    /** CSV holds no arrays or maps: such columns are written as JSON text. */
    private static Dataset<Row> jsonEncodeNested(Dataset<Row> df) {
        for (StructField f : df.schema().fields()) {
            if (f.dataType() instanceof ArrayType || f.dataType() instanceof MapType) df = df.withColumn(f.name(), to_json(col(f.name())));
        }
        return df;
    }

    /** A directory of a model given as a Hugging Face id, resolved on the driver; paths and shipped names as given. */
    private static String resolveModel(String m) throws IOException {
        Path local = localPath(m);
        if (local != null && Files.isDirectory(local)) return local.toAbsolutePath().normalize().toString();
        if (m.matches("[A-Za-z0-9][\\w.-]*/[\\w.-]+(@[\\w./-]+)?") && (local == null || !Files.exists(local))) {
            return ModelSource.of(HubSettings.fromEnvironment(), System.err).resolve(m).path().toAbsolutePath().toString();
        }
        return m;                                                                       // e.g. a directory shipped with --archives
    }

    static String checkFormat(String option, String f) {
        String v = f.toLowerCase(Locale.ROOT);
        if (v.equals("jsonl")) v = "json";
        if (!FORMATS.contains(v)) throw new IllegalArgumentException(option + " must be parquet, json or csv, got '" + f + "'");
        return v;
    }

    /** The input format from the path's extension, or for a local directory from its part files' extensions. */
    static String formatOf(String path) {
        String f = formatOfName(path.replaceAll("/+$", ""));
        if (f != null) return f;
        Path local = localPath(path);
        if (local != null && Files.isDirectory(local)) {
            try (Stream<Path> files = Files.list(local)) {
                List<String> found = files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".") && !n.startsWith("_"))
                        .map(TextJob::formatOfName).filter(x -> x != null).distinct().toList();
                if (found.size() == 1) return found.getFirst();
            } catch (IOException e) {
                throw new UncheckedIOException(path + ": " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException("--input " + path + ": cannot tell its format from the name (.jsonl, .json, .parquet, .csv);"
                + " give --input-format");
    }

    private static String formatOfName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.endsWith(".jsonl") || n.endsWith(".json") || n.endsWith(".ndjson")) return "json";
        if (n.endsWith(".parquet")) return "parquet";
        if (n.endsWith(".csv")) return "csv";
        return null;
    }

    /** {@code p} as a path of this machine's file system: a plain path or a file: URI; null for hdfs://, s3a://, ... */
    static Path localPath(String p) {
        if (p.startsWith("file:")) return Path.of(URI.create(p));
        if (p.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) return null;
        return Path.of(p);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    /** One line for an error: the innermost cause's message (Spark wraps task failures in several layers). */
    static String oneLine(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        String msg = t.getMessage() != null ? t.getMessage() : t.getClass().getName();
        if (!(t instanceof IllegalArgumentException || t instanceof IllegalStateException || t instanceof IOException
                || t instanceof UncheckedIOException)) {
            msg = t.getClass().getSimpleName() + ": " + msg;
        }
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }
}
