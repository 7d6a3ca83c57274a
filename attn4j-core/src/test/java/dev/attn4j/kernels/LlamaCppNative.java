package dev.attn4j.kernels;

import dev.attn4j.tensor.QuantType;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Test oracle: llama.cpp's own reference quantizers ({@code quantize_row_q4_K_ref}, ...), the C functions exported by the native library the Maven
 * artifact {@code de.kherud:llama} bundles for linux-x86_64, called through java.lang.foreign.
 * {@link #available()} is false on other platforms (tests then skip).
 */
public final class LlamaCppNative {
    private static final String RESOURCE = "/de/kherud/llama/Linux/x86_64/libjllama.so";
    private static SymbolLookup lookup;
    private static boolean tried;

    private LlamaCppNative() {
    }

    /** The library's symbols, extracted to a temporary file once; null when unavailable. */
    public static synchronized SymbolLookup lookup() {
        if (tried) return lookup;
        tried = true;
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
                || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
            return null;
        }
        try (InputStream in = LlamaCppNative.class.getResourceAsStream(RESOURCE)) {
            if (in == null) return null;
            Path tmp = Files.createTempFile("attn4j-llamacpp", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            lookup = SymbolLookup.libraryLookup(tmp, Arena.global());
        } catch (IOException | IllegalArgumentException | UnsatisfiedLinkError e) {
            lookup = null;
        }
        return lookup;
    }

    public static boolean available() {
        return lookup() != null;
    }

    private static MethodHandle fn(String name) {
        MemorySegment sym = lookup().find(name).orElseThrow(() -> new IllegalStateException("llama.cpp has no symbol " + name));
        return Linker.nativeLinker().downcallHandle(sym,
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    }

    private static String suffix(QuantType t) {
        return t.name().toLowerCase(Locale.ROOT).replace("_k", "_K");
    }

    /** llama.cpp's {@code quantize_row_<type>_ref} over x (a multiple of the block size). */
    public static byte[] quantize(QuantType type, float[] x) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = a.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment out = a.allocate(type.rowBytes(x.length));
            fn("quantize_row_" + suffix(type) + "_ref").invokeExact(in, out, (long) x.length);
            return out.toArray(ValueLayout.JAVA_BYTE);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
