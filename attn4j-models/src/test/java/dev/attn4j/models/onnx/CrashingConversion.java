package dev.attn4j.models.onnx;

import java.nio.file.Path;

/**
 * Test helper run in a child JVM: converts the default model into {@code args[0]} and halts the
 * JVM (no finally blocks, no shutdown hooks, like a kill -9) right after {@code args[1]} is written.
 */
public final class CrashingConversion {
    private CrashingConversion() {
    }

    public static void main(String[] args) throws Exception {
        String crashAfter = args[1];
        DefaultModel.resolve(Path.of(args[0]), DefaultModel.onnxBytes(), DefaultModel.tokenizerJsonBytes(), name -> {
            if (name.equals(crashAfter)) {
                System.out.println("halting after " + name);
                System.out.flush();
                Runtime.getRuntime().halt(77);
            }
        });
        System.out.println("finished without crashing");
    }
}
