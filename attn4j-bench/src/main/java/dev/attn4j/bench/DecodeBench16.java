package dev.attn4j.bench;

import dev.attn4j.kernels.MemoryBandwidth;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.autograd.F;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderCache;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.decoder.DecoderModel;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One decode step (m = 1) of a Llama-3.2-1B-shaped random model with BF16 weights against F32:
 * heap the weights take, step time (median, F32 and BF16 interleaved), weight bytes read per step
 * over step time (GB/s) next to a copy benchmark's GB/s in the same process, and where the time
 * goes (the layers' GEMMs, attention, the tied output projection). Usage:
 * {@code java --add-modules jdk.incubator.vector -Dattn4j.threads=2 -cp attn4j-bench/target/benchmarks.jar
 * dev.attn4j.bench.DecodeBench16 [layersForF32Comparison=4] [steps=20]}.
 */
public final class DecodeBench16 {
    static final String LLAMA_3_2_1B = "{\"model_type\": \"llama\", \"vocab_size\": 128256, \"hidden_size\": 2048, "
            + "\"intermediate_size\": 8192, \"num_hidden_layers\": %d, \"num_attention_heads\": 32, \"num_key_value_heads\": 8, "
            + "\"head_dim\": 64, \"max_position_embeddings\": 131072, \"rms_norm_eps\": 1e-05, \"hidden_act\": \"silu\", "
            + "\"rope_theta\": 500000.0, \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0, "
            + "\"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}, \"tie_word_embeddings\": true, "
            + "\"attention_bias\": false, \"mlp_bias\": false}";

    public static void main(String[] args) throws Exception {
        int cmpLayers = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int threads = Parallel.threads();
        System.out.printf(Locale.ROOT, "threads %d, load average %.1f%n", threads,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        double copy = MemoryBandwidth.copyGbps(256, threads);
        System.out.printf(Locale.ROOT, "copy benchmark: %.2f GB/s%n", copy);

        // the whole 1B shape in BF16: build time, heap
        long before = usedHeap();
        long t0 = System.nanoTime();
        CausalDecoder full = DecoderModels.random(config(16), DType.BF16, 1);
        double buildS = (System.nanoTime() - t0) / 1e9;
        long after = usedHeap();
        System.out.printf(Locale.ROOT, "Llama-3.2-1B shape, BF16 random: built in %.1f s, heap %+.0f MiB (parameters %.0f MiB, %d)%n",
                buildS, (after - before) / 1048576.0, paramBytes(full) / 1048576.0, paramCount(full));
        double[] fullStep = stepTimes(full, steps);
        long wb = weightBytesPerStep(full);
        double med = median(fullStep);
        System.out.printf(Locale.ROOT, "1B BF16 decode step: median %.1f ms (min %.1f), weights read %.0f MB -> %.2f GB/s = %.0f%% of copy%n",
                med * 1e3, min(fullStep) * 1e3, wb / 1e6, wb / med / 1e9, 100 * wb / med / 1e9 / copy);
        breakdown(full, steps);
        full = null;
        usedHeap();

        // F32 against BF16 interleaved on the same shape with fewer layers (the F32 1B would need 5 GB)
        CausalDecoder f32 = DecoderModels.random(config(cmpLayers), DType.F32, 1);
        CausalDecoder b16 = DecoderModels.random(config(cmpLayers), DType.BF16, 1);
        System.out.printf(Locale.ROOT, "%d-layer shape: parameters F32 %.0f MiB, BF16 %.0f MiB%n", cmpLayers,
                paramBytes(f32) / 1048576.0, paramBytes(b16) / 1048576.0);
        List<Double> tf = new ArrayList<>(), tb = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            for (double d : stepTimes(f32, steps / 4 + 1)) tf.add(d);
            for (double d : stepTimes(b16, steps / 4 + 1)) tb.add(d);
        }
        double mf = median(tf.stream().mapToDouble(Double::doubleValue).toArray());
        double mb = median(tb.stream().mapToDouble(Double::doubleValue).toArray());
        long wf = weightBytesPerStep(f32), wbb = weightBytesPerStep(b16);
        System.out.printf(Locale.ROOT, "%d layers, interleaved: F32 step %.1f ms (%.2f GB/s), BF16 step %.1f ms (%.2f GB/s), speed-up %.2fx%n",
                cmpLayers, mf * 1e3, wf / mf / 1e9, mb * 1e3, wbb / mb / 1e9, mf / mb);
        breakdown(f32, steps);
        breakdown(b16, steps);
        System.out.printf(Locale.ROOT, "copy benchmark again: %.2f GB/s, load average %.1f%n", MemoryBandwidth.copyGbps(256, threads),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    static DecoderConfig config(int layers) throws Exception {
        return DecoderConfig.fromJson(new ObjectMapper().readTree(String.format(Locale.ROOT, LLAMA_3_2_1B, layers)));
    }

    /** Times of {@code n} single-token decode steps after a 16-token prefill. */
    static double[] stepTimes(CausalDecoder m, int n) {
        double[] out = new double[n];
        try (var g = GradMode.noGrad()) {
            DecoderCache cache = m.newCache(1, 16 + n + 1);
            int[][] prompt = {new int[16]};
            for (int i = 0; i < 16; i++) prompt[0][i] = 1000 + 37 * i;
            m.forward(cache, prompt, null, false, false, false);
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                m.forward(cache, new int[][] {{500 + i}}, null, false, false, false);
                out[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return out;
    }

    /** Time of the tied output projection alone and of one layer's projections at m = 1. */
    static void breakdown(CausalDecoder m, int n) {
        DecoderModel d = (DecoderModel) m;
        Tensor x = Tensor.of(NDArray.full(dev.attn4j.tensor.Shape.of(1, 2048), 0.01f));   // [1, C]
        Tensor h = Tensor.of(NDArray.full(dev.attn4j.tensor.Shape.of(1, 8192), 0.01f));   // [1, I]
        var layer = d.model.layers.get(0);
        double[] head = new double[n], proj = new double[n];
        try (var g = GradMode.noGrad()) {
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                F.linear(x, d.model.embedTokens.weight, null);                           // [1, V]
                long t1 = System.nanoTime();
                layer.selfAttn.qProj.forward(x);
                layer.selfAttn.kProj.forward(x);
                layer.selfAttn.vProj.forward(x);
                layer.selfAttn.oProj.forward(x);
                layer.mlp.gateProj.forward(x);
                layer.mlp.upProj.forward(x);
                layer.mlp.downProj.forward(h);
                long t2 = System.nanoTime();
                head[i] = (t1 - t0) / 1e9;
                proj[i] = (t2 - t1) / 1e9;
            }
        }
        long headBytes = d.model.embedTokens.weight.data().numel() * d.model.embedTokens.weight.dtype().byteSize();
        long layerBytes = 0;
        for (Module mod : layer.namedModules().values()) {
            if (mod instanceof Linear l) layerBytes += l.weight.data().numel() * l.weight.dtype().byteSize();
        }
        double mh = median(head), mp = median(proj);
        System.out.printf(Locale.ROOT, "  %s: lm_head [1,2048]x[2048,128256]^T %.1f ms (%.2f GB/s); one layer's 7 projections %.1f ms (%.2f GB/s)%n",
                d.model.embedTokens.weight.dtype(), mh * 1e3, headBytes / mh / 1e9, mp * 1e3, layerBytes / mp / 1e9);
    }

    /** Bytes of weights a decode step reads: every linear weight and the tied output projection (the lookup reads one row). */
    static long weightBytesPerStep(CausalDecoder m) {
        long bytes = 0;
        for (Module mod : m.namedModules().values()) {
            if (mod instanceof Linear l) bytes += l.weight.data().numel() * l.weight.dtype().byteSize();
        }
        DecoderModel d = (DecoderModel) m;
        if (d.lmHead == null) bytes += d.model.embedTokens.weight.data().numel() * d.model.embedTokens.weight.dtype().byteSize();
        return bytes;
    }

    static long paramBytes(Module m) {
        long b = 0;
        for (Tensor t : m.namedParameters().values()) b += t.data().storage().size() * t.dtype().byteSize();
        return b;
    }

    static long paramCount(Module m) {
        long n = 0;
        for (Tensor t : m.namedParameters().values()) n += t.data().numel();
        return n;
    }

    static long usedHeap() {
        for (int i = 0; i < 3; i++) System.gc();
        var mem = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return mem.getUsed();
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }
}
