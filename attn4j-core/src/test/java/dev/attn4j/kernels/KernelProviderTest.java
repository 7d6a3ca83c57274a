package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Which kernels {@link Kernels#get()} picks, checked in fresh JVMs (the choice is made once per
 * JVM): SIMD with the vector module, scalar when forced, scalar plus a hint naming the flag to add
 * when the module is missing. Each child also computes a dot product to show the kernels work.
 */
class KernelProviderTest {

    /** Entry point of the child JVMs: prints the kernels' name and a dot product. */
    public static final class Probe {
        public static void main(String[] args) {
            Kernels k = Kernels.get();
            float[] x = new float[100];
            for (int i = 0; i < x.length; i++) x[i] = i;
            System.out.println("kernels=" + k.name() + " dot=" + k.dot(x, 0, x, 0, x.length));
        }
    }

    record Result(int exit, String out, String err) {
    }

    static Result runChild(String... jvmArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmArgs));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        // Read both streams fully; the outputs are a few lines, so sequential reads cannot block.
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not finish: " + cmd);
        }
        return new Result(p.exitValue(), out, err);
    }

    // sum of i^2 for i < 100
    static final String DOT = "dot=328350.0";

    @Test
    void simdWhenTheVectorModuleIsThere() throws Exception {
        Result r = runChild("--add-modules", "jdk.incubator.vector");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("kernels=simd").contains(DOT);
    }

    @Test
    void scalarWhenForced() throws Exception {
        Result r = runChild("--add-modules", "jdk.incubator.vector", "-Dattn4j.kernels=scalar");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("kernels=scalar").contains(DOT);
    }

    @Test
    void scalarWithAHintWhenTheVectorModuleIsMissing() throws Exception {
        Result r = runChild();
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("kernels=scalar").contains(DOT);
        assertThat(r.err()).contains("--add-modules jdk.incubator.vector");
    }
}
