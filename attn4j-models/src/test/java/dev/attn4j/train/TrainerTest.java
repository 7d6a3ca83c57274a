package dev.attn4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.generate.Greedy;
import dev.attn4j.models.seq2seq.Arch;
import dev.attn4j.models.seq2seq.Seq2SeqConfig;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tasks.DatesTask;
import dev.attn4j.tensor.NDArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TrainerTest {
    @TempDir
    Path tmp;

    static Seq2SeqConfig tinyModel(Arch arch, int width) {
        return new Seq2SeqConfig(arch, CharVocab.dates().size(), width, 2, 1, 1, 2 * width, width, 0.0, arch == Arch.TRANSFORMER, 40, 12);
    }

    static TrainConfig tinyTrain(Arch arch, long seed, int maxSteps) {
        return new TrainConfig(arch, seed, 8, 3e-3, 2, maxSteps, 1000, 20, 10, 0.995, 0.1, 0.01, 1.0, 1000);
    }

    /** A short run learns: the loss falls well below its starting value (ln 71 = 4.26) and some held-out dates come out exactly right. */
    @Test
    void shortTrainingLowersTheLossAndGetsExactMatches() {
        long seed = System.nanoTime();
        Seq2SeqConfig m = new Seq2SeqConfig(Arch.TRANSFORMER, CharVocab.dates().size(), 48, 4, 1, 1, 96, 48, 0.0, true, 40, 12);
        TrainConfig t = new TrainConfig(Arch.TRANSFORMER, seed, 32, 3e-3, 30, 600, 100, 100, 200, 0.3, 0.1, 0.01, 1.0, 50);
        List<String> log = new ArrayList<>();
        TrainResult r = Trainer.create(m, t, tmp.resolve("short"), log::add).run(45, 0);
        System.out.println("short training: " + r);
        assertThat(r.loss()).as("smoothed loss after %d steps, seed %d, log %s", r.steps(), seed, log).isLessThan(2.0);
        assertThat(r.exactMatch()).as("held-out exact match after %d steps, seed %d, log %s", r.steps(), seed, log).isGreaterThan(0);
        assertThat(log).anyMatch(l -> l.contains("tok/s") && l.contains("ETA"));
        assertThat(r.tokensPerSecond()).isPositive();
    }

    /**
     * Resuming gives, bit for bit, the model and optimizer state of an uninterrupted run. Checked
     * in a child JVM on the scalar kernels: in one JVM the SIMD kernels' C2 intrinsics (exp, lane
     * reductions) round differently from the Java fallback that the first steps run in, and Adam
     * turns rounding noise in near-zero gradients into lr-sized steps, so only a deterministic
     * kernel set can show that nothing (optimizer moments, schedule, data order) was lost.
     */
    @ParameterizedTest
    @EnumSource(Arch.class)
    void resumingGivesTheParametersOfAnUninterruptedRun(Arch arch) throws Exception {
        long seed = System.nanoTime();
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-Dattn4j.kernels=scalar", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), ResumeCheck.class.getName(), arch.name(), Long.toString(seed),
                tmp.toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)).as("child finished").isTrue();
        assertThat(p.exitValue()).as("%s resume check, seed %d:%n%s", arch, seed, out).isZero();
        assertThat(out).contains("resume identical");
    }

    /** Child JVM entry for the resume check: args arch, seed, working directory. */
    public static final class ResumeCheck {
        public static void main(String[] args) throws IOException {
            Arch arch = Arch.valueOf(args[0]);
            long seed = Long.parseLong(args[1]);
            Path tmp = Path.of(args[2]);
            Seq2SeqConfig m = tinyModel(arch, 16);
            TrainConfig t = tinyTrain(arch, seed, 6);
            Trainer.create(m, t, tmp.resolve("straight"), null).run(600, 0);
            Trainer.create(m, t, tmp.resolve("split"), null).run(600, 3);
            assertThat(Checkpoint.readTrainerState(tmp.resolve("split")).step()).isEqualTo(3);
            TrainResult resumed = Trainer.resume(tmp.resolve("split"), null).run(600, 0);
            assertThat(resumed.steps()).isEqualTo(6);
            assertSame(StateDicts.read(tmp.resolve("straight/model.safetensors")), StateDicts.read(tmp.resolve("split/model.safetensors")),
                    arch + " model, seed " + seed);
            assertSame(StateDicts.read(tmp.resolve("straight/optimizer.safetensors")),
                    StateDicts.read(tmp.resolve("split/optimizer.safetensors")), arch + " optimizer, seed " + seed);
            TrainerState a = Checkpoint.readTrainerState(tmp.resolve("straight")), b = Checkpoint.readTrainerState(tmp.resolve("split"));
            assertThat(b.step()).isEqualTo(a.step());
            assertThat(b.sourceTokens()).isEqualTo(a.sourceTokens());
            assertThat(b.lastLoss()).isEqualTo(a.lastLoss());
            System.out.println("resume identical");
        }
    }

    @Test
    void checkpointRoundTripRestoresTheModel() throws IOException {
        long seed = System.nanoTime();
        Path dir = tmp.resolve("ckpt");
        Trainer trainer = Trainer.create(tinyModel(Arch.GRU_LUONG, 16), tinyTrain(Arch.GRU_LUONG, seed, 3), dir, null);
        trainer.run(600, 0);
        Checkpoint.Config cfg = Checkpoint.readConfig(dir);
        assertThat(cfg.model()).isEqualTo(trainer.model().config());
        assertThat(cfg.train()).isEqualTo(trainer.config());
        assertThat(cfg.task()).isEqualTo("dates");
        Seq2SeqModel<?> loaded = Checkpoint.loadModel(dir);
        assertSame(trainer.model().stateDict(), loaded.stateDict(), "seed " + seed);
        List<int[]> src = new ArrayList<>();
        for (DatesTask.Example ex : DatesTask.generate(seed, 5)) src.add(CharVocab.dates().encode(ex.source()));
        trainer.model().eval();
        List<int[]> a = Greedy.decode(trainer.model(), src, 12), b = Greedy.decode(loaded, src, 12);
        for (int i = 0; i < a.size(); i++) assertThat(b.get(i)).isEqualTo(a.get(i));
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .as("no temporary files left").containsExactly("config.json", "model.safetensors", "optimizer.safetensors", "trainer.json");
        }
    }

    @Test
    void malformedCheckpointsAreReportedWithTheFileAtFault() throws IOException {
        Path dir = tmp.resolve("good");
        Trainer.create(tinyModel(Arch.TRANSFORMER, 16), tinyTrain(Arch.TRANSFORMER, 1, 2), dir, null).run(600, 0);

        assertThatThrownBy(() -> Checkpoint.loadModel(tmp.resolve("nowhere")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nowhere").hasMessageContaining("does not exist");

        Path noModel = copy(dir, "no-model");
        Files.delete(noModel.resolve("model.safetensors"));
        assertThatThrownBy(() -> Checkpoint.loadModel(noModel)).hasMessageContaining("has no model.safetensors");

        Path badJson = copy(dir, "bad-json");
        Files.writeString(badJson.resolve("config.json"), "{\"format\": \"attn4j-seq2seq\", ");
        assertThatThrownBy(() -> Checkpoint.loadModel(badJson)).hasMessageContaining("config.json").hasMessageContaining("cannot read");

        Path wrongFormat = copy(dir, "wrong-format");
        Files.writeString(wrongFormat.resolve("config.json"), "{\"format\": \"something-else\"}");
        assertThatThrownBy(() -> Checkpoint.loadModel(wrongFormat)).hasMessageContaining("config.json").hasMessageContaining("\"format\"");

        Path badConfig = copy(dir, "bad-config");
        String cfg = Files.readString(badConfig.resolve("config.json")).replaceFirst("\"dModel\" : 16", "\"dModel\" : 15");
        Files.writeString(badConfig.resolve("config.json"), cfg);
        assertThatThrownBy(() -> Checkpoint.loadModel(badConfig)).hasMessageContaining("config.json").hasMessageContaining("divisible by heads");

        Path otherSize = copy(dir, "other-size");
        Files.writeString(otherSize.resolve("config.json"), Files.readString(otherSize.resolve("config.json"))
                .replaceFirst("\"dModel\" : 16", "\"dModel\" : 32"));
        assertThatThrownBy(() -> Checkpoint.loadModel(otherSize)).hasMessageContaining("model.safetensors").hasMessageContaining("size mismatch");

        Path truncated = copy(dir, "truncated");
        byte[] bytes = Files.readAllBytes(truncated.resolve("model.safetensors"));
        Files.write(truncated.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> Checkpoint.loadModel(truncated)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model.safetensors");

        Path badTrainer = copy(dir, "bad-trainer");
        Files.writeString(badTrainer.resolve("trainer.json"), "[]");
        assertThatThrownBy(() -> Trainer.resume(badTrainer, null)).hasMessageContaining("trainer.json");

        Path badOptimizer = copy(dir, "bad-optimizer");
        Files.copy(dir.resolve("model.safetensors"), badOptimizer.resolve("optimizer.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> Trainer.resume(badOptimizer, null)).hasMessageContaining("optimizer.safetensors");
    }

    private Path copy(Path dir, String name) throws IOException {
        Path to = tmp.resolve(name);
        Files.createDirectories(to);
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    private static void assertSame(Map<String, NDArray> a, Map<String, NDArray> b, String what) {
        assertThat(b.keySet()).as(what).containsExactlyInAnyOrderElementsOf(a.keySet());
        for (String k : a.keySet()) {
            assertThat(b.get(k).shape()).as("%s: %s", what, k).isEqualTo(a.get(k).shape());
            assertThat(b.get(k).toFloatArray()).as("%s: %s", what, k).containsExactly(a.get(k).toFloatArray());
        }
    }
}
