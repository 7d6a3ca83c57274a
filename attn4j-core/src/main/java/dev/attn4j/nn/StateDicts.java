package dev.attn4j.nn;

import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.tensor.NDArray;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Saving and loading a module's state dict as safetensors (atomically written). */
public final class StateDicts {
    private StateDicts() {
    }

    /** Writes every parameter and buffer of {@code module} as F32 under its dotted name. */
    public static void save(Module module, Path file) throws IOException {
        save(module.stateDict(), file, Map.of());
    }

    public static void save(Map<String, NDArray> state, Path file, Map<String, String> metadata) throws IOException {
        SafetensorsWriter.write(file, state, metadata, SafetensorsDType.F32);
    }

    /** Reads every tensor of a safetensors file or sharded checkpoint as heap F32 arrays. */
    public static Map<String, NDArray> read(Path path) throws IOException {
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(path)) {
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (String name : ckpt.names()) out.put(name, ckpt.getCopy(name));
            return out;
        }
    }

    /** Loads a checkpoint into {@code module} by name (see {@link Module#loadStateDict}). */
    public static Module.LoadResult load(Module module, Path path, boolean strict) throws IOException {
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(path)) {
            Map<String, NDArray> views = new LinkedHashMap<>();
            for (String name : ckpt.names()) views.put(name, ckpt.get(name)); // zero-copy for F32
            try {
                return module.loadStateDict(views, strict);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
            }
        }
    }
}
