package dev.attn4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * llama.cpp as a peer and oracle: its C API ({@code llama.h}) called through java.lang.foreign in
 * the native library the Maven artifact {@code de.kherud:llama:4.1.0} bundles for linux-x86_64
 * ({@code libjllama.so} exports the whole llama.cpp API). The artifact's own Java binding is not
 * used: it cannot return logits (its {@code n_probs} path aborts), its streaming hangs on token-id
 * prompts and its {@code close()} can hang. Bench module and tests only; the library never loads it.
 *
 * <p>Struct layouts are those of the llama.cpp build inside that artifact (March 2025):
 * {@code llama_model_params} (64 bytes: devices, n_gpu_layers, split_mode, main_gpu, tensor_split,
 * progress callback and data, kv_overrides, then vocab_only, use_mmap, use_mlock, check_tensors) and
 * the head of {@code llama_context_params} (n_ctx, n_batch, n_ubatch, n_seq_max, n_threads,
 * n_threads_batch). {@link #open} checks the defaults read at those offsets (n_ctx 512, n_batch
 * 2048, n_ubatch 512, n_seq_max 1, use_mmap true) and refuses a library whose layout differs.
 * Parameter structs are passed as larger zero-padded blocks: they are passed in memory, so the
 * callee reads its own size from the front.
 */
public final class LlamaCpp implements AutoCloseable {
    private static final String RESOURCE = "/de/kherud/llama/Linux/x86_64/libjllama.so";
    private static final StructLayout PARAMS = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(64, ValueLayout.JAVA_LONG));
    /** {@code llama_batch}: n_tokens, token, embd, pos, n_seq_id, seq_id, logits. */
    private static final StructLayout BATCH = MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("n_tokens"),
            MemoryLayout.paddingLayout(4), ValueLayout.ADDRESS.withName("token"), ValueLayout.ADDRESS.withName("embd"),
            ValueLayout.ADDRESS.withName("pos"), ValueLayout.ADDRESS.withName("n_seq_id"), ValueLayout.ADDRESS.withName("seq_id"),
            ValueLayout.ADDRESS.withName("logits"));
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;

    private static Api api;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment model;
    private final MemorySegment ctx;
    private final int vocab;
    private final int nCtx;
    private MemorySegment tokens;
    private int position;
    private boolean closed;

    private record Api(MethodHandle modelDefaultParams, MethodHandle contextDefaultParams, MethodHandle loadModel,
                       MethodHandle initFromModel, MethodHandle getVocab, MethodHandle vocabTokens, MethodHandle batchGetOne,
                       MethodHandle decode, MethodHandle logitsIth, MethodHandle setThreads, MethodHandle kvClear,
                       MethodHandle free, MethodHandle modelFree, MethodHandle systemInfo) {
    }

    private static synchronized Api api() {
        if (api != null) return api;
        if (!available()) throw new IllegalStateException("llama.cpp (de.kherud:llama) has no native library for this platform here");
        SymbolLookup lib;
        try (InputStream in = LlamaCpp.class.getResourceAsStream(RESOURCE)) {
            Path tmp = Files.createTempFile("attn4j-llamacpp", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            lib = SymbolLookup.libraryLookup(tmp, Arena.global());
        } catch (IOException e) {
            throw new IllegalStateException("cannot extract llama.cpp's native library: " + e.getMessage(), e);
        }
        Linker l = Linker.nativeLinker();
        java.util.function.BiFunction<String, FunctionDescriptor, MethodHandle> fn = (name, d) -> l.downcallHandle(
                lib.find(name).orElseThrow(() -> new IllegalStateException("llama.cpp has no symbol " + name)), d);
        MethodHandle init = fn.apply("llama_backend_init", FunctionDescriptor.ofVoid());
        try {
            init.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        api = new Api(fn.apply("llama_model_default_params", FunctionDescriptor.of(PARAMS)),
                fn.apply("llama_context_default_params", FunctionDescriptor.of(PARAMS)),
                fn.apply("llama_model_load_from_file", FunctionDescriptor.of(ADDR, ADDR, PARAMS)),
                fn.apply("llama_init_from_model", FunctionDescriptor.of(ADDR, ADDR, PARAMS)),
                fn.apply("llama_model_get_vocab", FunctionDescriptor.of(ADDR, ADDR)),
                fn.apply("llama_vocab_n_tokens", FunctionDescriptor.of(INT, ADDR)),
                fn.apply("llama_batch_get_one", FunctionDescriptor.of(BATCH, ADDR, INT)),
                fn.apply("llama_decode", FunctionDescriptor.of(INT, ADDR, BATCH)),
                fn.apply("llama_get_logits_ith", FunctionDescriptor.of(ADDR, ADDR, INT)),
                fn.apply("llama_set_n_threads", FunctionDescriptor.ofVoid(ADDR, INT, INT)),
                fn.apply("llama_kv_cache_clear", FunctionDescriptor.ofVoid(ADDR)),
                fn.apply("llama_free", FunctionDescriptor.ofVoid(ADDR)),
                fn.apply("llama_model_free", FunctionDescriptor.ofVoid(ADDR)),
                fn.apply("llama_print_system_info", FunctionDescriptor.of(ADDR)));
        return api;
    }

    /** Whether the bundled library exists for this platform (linux-x86_64). */
    public static boolean available() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
                && System.getProperty("os.arch", "").matches("amd64|x86_64")
                && LlamaCpp.class.getResource(RESOURCE) != null;
    }

    /** llama.cpp's {@code llama_print_system_info()}: the CPU features its build uses. */
    public static String systemInfo() {
        try {
            return ((MemorySegment) api().systemInfo.invokeExact()).reinterpret(4096).getString(0).trim();
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /**
     * Loads {@code gguf} (memory-mapped, CPU only) with a context of {@code nCtx} positions, a
     * logical and physical batch of {@code nBatch} tokens and {@code threads} threads for both
     * single-token and batch evaluation.
     */
    public static LlamaCpp open(Path gguf, int nCtx, int nBatch, int threads) {
        if (!Files.isRegularFile(gguf)) throw new IllegalArgumentException(gguf + ": no such file");
        return new LlamaCpp(api(), gguf, nCtx, nBatch, threads);
    }

    private LlamaCpp(Api a, Path gguf, int nCtx, int nBatch, int threads) {
        try {
            MemorySegment mp = (MemorySegment) a.modelDefaultParams.invokeExact((SegmentAllocator) arena);
            MemorySegment cp = (MemorySegment) a.contextDefaultParams.invokeExact((SegmentAllocator) arena);
            if (cp.get(INT, 0) != 512 || cp.get(INT, 4) != 2048 || cp.get(INT, 8) != 512 || cp.get(INT, 12) != 1
                    || mp.get(ValueLayout.JAVA_BYTE, 57) != 1) {
                throw new IllegalStateException("llama.cpp's parameter structs are not laid out as this driver expects "
                        + "(another llama.cpp version?)");
            }
            mp.set(INT, 8, 0);                                        // n_gpu_layers
            cp.set(INT, 0, nCtx);
            cp.set(INT, 4, nBatch);
            cp.set(INT, 8, nBatch);
            cp.set(INT, 16, threads);
            cp.set(INT, 20, threads);
            model = (MemorySegment) a.loadModel.invokeExact(arena.allocateFrom(gguf.toAbsolutePath().toString()), mp);
            if (model.address() == 0) throw new IllegalArgumentException(gguf + ": llama.cpp could not load it (see its log above)");
            MemorySegment c = (MemorySegment) a.initFromModel.invokeExact(model, cp);
            if (c.address() == 0) {
                a.modelFree.invokeExact(model);
                throw new IllegalStateException(gguf + ": llama.cpp could not create a context");
            }
            ctx = c;
            a.setThreads.invokeExact(ctx, threads, threads);
            vocab = (int) a.vocabTokens.invokeExact((MemorySegment) a.getVocab.invokeExact(model));
            this.nCtx = nCtx;
            tokens = arena.allocate(INT, Math.max(1, nBatch));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        } catch (Throwable e) {
            arena.close();
            throw rethrow(e);
        }
    }

    public int vocabSize() {
        return vocab;
    }

    /** Tokens in the cache (the position the next token gets). */
    public int position() {
        return position;
    }

    /**
     * Runs {@code ids} through the model after the tokens already in the cache (one
     * {@code llama_decode}, llama.cpp splitting it into its physical batches) and returns the
     * logits of the last one (a copy, vocabulary-sized).
     */
    public float[] decode(int... ids) {
        MemorySegment logits = run(ids);
        return logits.toArray(FLOAT);
    }

    /** As {@link #decode} but returns only the index of the largest logit (greedy; the first on ties). */
    public int decodeArgmax(int... ids) {
        MemorySegment logits = run(ids);
        int best = 0;
        float max = logits.get(FLOAT, 0);
        for (int i = 1; i < vocab; i++) {
            float v = logits.getAtIndex(FLOAT, i);
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return best;
    }

    private MemorySegment run(int[] ids) {
        if (closed) throw new IllegalStateException("closed");
        if (ids.length == 0) throw new IllegalArgumentException("no tokens");
        if (position + ids.length > nCtx) {
            throw new IllegalArgumentException(position + " + " + ids.length + " tokens exceed the context of " + nCtx);
        }
        for (int id : ids) {
            if (id < 0 || id >= vocab) throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + vocab);
        }
        try {
            if (tokens.byteSize() < (long) ids.length * 4) tokens = arena.allocate(INT, ids.length);
            MemorySegment.copy(ids, 0, tokens, INT, 0, ids.length);
            MemorySegment batch = (MemorySegment) api.batchGetOne.invokeExact((SegmentAllocator) arena, tokens, ids.length);
            int rc = (int) api.decode.invokeExact(ctx, batch);
            if (rc != 0) throw new IllegalStateException("llama_decode returned " + rc);
            position += ids.length;
            MemorySegment p = (MemorySegment) api.logitsIth.invokeExact(ctx, -1);
            if (p.address() == 0) throw new IllegalStateException("llama.cpp returned no logits");
            return p.reinterpret((long) vocab * 4);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw rethrow(e);
        }
    }

    /** Empties the key/value cache: the next decode starts at position 0. */
    public void clear() {
        try {
            api.kvClear.invokeExact(ctx);
        } catch (Throwable e) {
            throw rethrow(e);
        }
        position = 0;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            api.free.invokeExact(ctx);
            api.modelFree.invokeExact(model);
        } catch (Throwable e) {
            throw rethrow(e);
        } finally {
            arena.close();
        }
    }

    private static RuntimeException rethrow(Throwable e) {
        if (e instanceof RuntimeException r) return r;
        if (e instanceof Error err) throw err;
        return new IllegalStateException(e);
    }
}
