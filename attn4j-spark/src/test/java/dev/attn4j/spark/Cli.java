package dev.attn4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/** Runs a command line in this JVM with System.out and System.err captured. */
final class Cli {
    private Cli() {
    }

    static final ObjectMapper JSON = new ObjectMapper();

    record Run(int code, String out, String err) {
        /** stdout's lines parsed as JSON objects. */
        List<JsonNode> lines() throws Exception {
            List<JsonNode> l = new ArrayList<>();
            for (String s : out.split("\n")) if (!s.isBlank()) l.add(JSON.readTree(s));
            return l;
        }
    }

    /** {@code attn4j ARGS} (the main CLI: embed, classify, ...). */
    static Run attn4j(String... args) {
        return run(a -> dev.attn4j.cli.Main.run(a), args);
    }

    /** {@code attn4j spark ARGS}. */
    static Run spark(String... args) {
        return run(a -> dev.attn4j.spark.job.SparkJob.run(a), args);
    }

    static synchronized Run run(ToIntFunction<String[]> main, String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try (PrintStream po = new PrintStream(o, true, StandardCharsets.UTF_8); PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            System.setOut(po);
            System.setErr(pe);
            int code = main.applyAsInt(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
