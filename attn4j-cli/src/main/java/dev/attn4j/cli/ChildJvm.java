package dev.attn4j.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Commands that run code kept out of the CLI jar (ONNX Runtime for {@code bench embed}, Spark
 * for {@code spark}) start it in a child JVM with this JVM's flags, from a file another module's
 * build makes; the {@code ./attn4j} launcher builds it on first use and passes its path.
 */
final class ChildJvm {
    private ChildJvm() {
    }

    /** This JVM's java binary and flags, less {@code -D<dropProperty>=...}: the start of a child's command line. */
    static List<String> javaCommand(String dropProperty) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!flag.startsWith("-D" + dropProperty + "=")) cmd.add(flag);
        }
        return cmd;
    }

    /**
     * A file another module's build makes: {@code -D<property>}, else {@code $<env>}, else
     * {@code relative} under the repository root (found from the CLI jar's place in its build tree).
     *
     * @throws IOException when it is not there, saying how to build it
     */
    static Path buildOutput(String property, String env, String relative, String usedBy, String module) throws IOException {
        String prop = System.getProperty(property);
        String fromEnv = System.getenv(env);
        Path file;
        if (prop != null && !prop.isBlank()) {
            file = Path.of(prop);
        } else if (fromEnv != null && !fromEnv.isBlank()) {
            file = Path.of(fromEnv);
        } else {
            try {
                Path self = Path.of(ChildJvm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
                // attn4j-cli/target/attn4j.jar (or attn4j-cli/target/classes) -> repository root
                file = self.toAbsolutePath().getParent().getParent().getParent().resolve(relative);
            } catch (URISyntaxException | RuntimeException e) {
                throw new IOException("cannot locate " + relative + "; set " + env, e);
            }
        }
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " not found: `" + usedBy + "` runs from " + module + "'s build;"
                    + " the ./attn4j launcher builds it, or run ./build -q -pl " + module + " -am package -DskipTests");
        }
        return file;
    }
}
