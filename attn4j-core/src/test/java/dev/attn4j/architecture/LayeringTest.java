package dev.attn4j.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Enforces the one-way package layering of attn4j-core (DEVELOPERS.md, "Shape of the code") by
 * reading the imports and fully qualified references of every main source file.
 */
class LayeringTest {
    private static final Path MAIN = Path.of("src/main/java/dev/attn4j");

    /** Each package and the attn4j packages it may use (besides itself and its subpackages). */
    private static final Map<String, List<String>> ALLOWED = Map.ofEntries(
            Map.entry("tensor", List.of()),
            Map.entry("kernels", List.of("tensor")),
            Map.entry("autograd", List.of("tensor", "kernels")),
            Map.entry("nn", List.of("tensor", "kernels", "autograd", "io")),
            Map.entry("optim", List.of("tensor", "kernels", "autograd", "nn")),
            Map.entry("attention", List.of("tensor", "kernels", "autograd", "nn")),
            Map.entry("transformer", List.of("tensor", "kernels", "autograd", "nn", "attention")),
            Map.entry("io", List.of("tensor")));

    /** A use of a Vector API type (the module name alone, e.g. to look the module up, is fine). */
    private static final Pattern VECTOR_API = Pattern.compile("jdk\\.incubator\\.vector\\.[A-Za-z*]");

    private static final Pattern REF = Pattern.compile("\\bdev\\.attn4j\\.([a-z0-9_]+)");

    @Test
    void packagesOnlyUseLowerLayers() throws IOException {
        List<String> violations = new ArrayList<>();
        for (Path file : javaFiles(MAIN)) {
            String top = MAIN.relativize(file).getName(0).toString();
            List<String> allowed = ALLOWED.get(top);
            if (allowed == null) {
                violations.add(file + ": package dev.attn4j." + top + " is not in the layering table");
                continue;
            }
            violations.addAll(upwardReferences(file.toString(), top, Files.readString(file)));
        }
        assertThat(violations).as("layering violations").isEmpty();
    }

    /** References from {@code source} (in package {@code top}) to attn4j packages it may not use. */
    static List<String> upwardReferences(String file, String top, String source) {
        List<String> found = new ArrayList<>();
        List<String> allowed = ALLOWED.getOrDefault(top, List.of());
        Matcher m = REF.matcher(withoutComments(source));
        while (m.find()) {
            String used = m.group(1);
            if (!used.equals(top) && !allowed.contains(used)) found.add(file + " (" + top + ") uses dev.attn4j." + used);
        }
        return found;
    }

    /** Drops block and line comments: documentation may mention higher layers. */
    static String withoutComments(String source) {
        return source.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
    }

    @Test
    void onlyTheSimdPackageImportsTheVectorApi() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (Path file : javaFiles(MAIN)) {
            boolean simd = MAIN.relativize(file).startsWith(Path.of("kernels", "simd"));
            if (!simd && VECTOR_API.matcher(withoutComments(Files.readString(file))).find()) offenders.add(file.toString());
        }
        assertThat(offenders).as("files outside kernels.simd using jdk.incubator.vector").isEmpty();
    }

    @Test
    void theCheckFindsAnUpwardReferenceButIgnoresComments() {
        String upward = "package dev.attn4j.tensor;\nimport dev.attn4j.autograd.Tensor;\n";
        assertThat(upwardReferences("X.java", "tensor", upward)).hasSize(1);
        String documented = "package dev.attn4j.tensor;\n/** see {@link dev.attn4j.autograd.Tensor} */\n"
                + "// dev.attn4j.nn.Module too\nclass X {}";
        assertThat(upwardReferences("X.java", "tensor", documented)).isEmpty();
        assertThat(upwardReferences("Y.java", "nn", "import dev.attn4j.autograd.Tensor;")).isEmpty();
    }

    private static List<Path> javaFiles(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }
}
