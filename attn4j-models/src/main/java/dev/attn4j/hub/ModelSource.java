package dev.attn4j.hub;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Turns a model argument into a {@link ModelDirectory}: an existing local directory is used as
 * it is; anything else is read as a Hub id ({@code org/name[@revision]}) and served from the
 * cache when the snapshot there is complete (no network request at all), else downloaded.
 * With {@code HF_HUB_OFFLINE=1} only the cache is used, and an incomplete snapshot is an error
 * that lists what is missing. When the Hub cannot be reached, a cached snapshot that has the
 * required files and weights is used (with a warning on stderr), as huggingface_hub does.
 * <p>
 * A snapshot is complete when it has every required file, safetensors weights
 * ({@code model.safetensors}, or {@code model.safetensors.index.json} and all its shards) when
 * weights are asked for, and each optional file either present or recorded as absent on the Hub.
 * Note that a complete snapshot of a branch is not checked against the Hub for newer commits;
 * ask for a commit sha, or clear {@code refs/<branch>}, to move on.
 */
public final class ModelSource {
    /** Files every model needs by default. */
    public static final List<String> DEFAULT_REQUIRED = List.of(ModelDirectory.CONFIG);
    /** Tokenizer and sentence-transformers files fetched when the Hub has them. */
    public static final List<String> DEFAULT_OPTIONAL = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "vocab.txt", ModelDirectory.MODULES, ModelDirectory.SENTENCE_BERT_CONFIG,
            ModelDirectory.DEFAULT_POOLING_CONFIG);

    private final HubSettings settings;
    private final List<String> required;
    private final List<String> optional;
    private final boolean weights;
    private final Supplier<HubDownloader> downloaders;

    /**
     * A source with the default file lists and safetensors weights.
     *
     * @param settings    cache root, endpoint, token, offline flag
     * @param downloaders makes the downloader used when something must be fetched (closed after use)
     */
    public ModelSource(HubSettings settings, Supplier<HubDownloader> downloaders) {
        this(settings, DEFAULT_REQUIRED, DEFAULT_OPTIONAL, true, downloaders);
    }

    private ModelSource(HubSettings settings, List<String> required, List<String> optional, boolean weights,
                        Supplier<HubDownloader> downloaders) {
        this.settings = Objects.requireNonNull(settings, "settings");
        required.forEach(HubCache::checkFileName);
        optional.forEach(HubCache::checkFileName);
        this.required = List.copyOf(required);
        this.optional = List.copyOf(optional);
        this.weights = weights;
        this.downloaders = Objects.requireNonNull(downloaders, "downloaders");
    }

    /** A source configured from the real environment, progress bars on stderr. */
    public static ModelSource fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** A source configured from {@code env} (see {@link HubSettings}). */
    public static ModelSource fromEnvironment(Map<String, String> env) {
        HubSettings s = HubSettings.fromEnvironment(env);
        return new ModelSource(s, () -> HubDownloader.fromSettings(s));
    }

    /** A source for {@code settings} whose downloads draw progress on {@code progress} (null: none). */
    public static ModelSource of(HubSettings settings, PrintStream progress) {
        return new ModelSource(settings, () -> HubDownloader.builder()
                .cache(new HubCache(settings.cacheRoot()))
                .endpoint(settings.endpoint())
                .token(settings.token().orElse(null))
                .progress(progress)
                .build());
    }

    /**
     * The same source with other file lists.
     *
     * @param requiredFiles files that must exist
     * @param optionalFiles files fetched when the Hub has them
     * @param safetensors   whether safetensors weights (single or sharded) are required
     */
    public ModelSource withFiles(List<String> requiredFiles, List<String> optionalFiles, boolean safetensors) {
        return new ModelSource(settings, requiredFiles, optionalFiles, safetensors, downloaders);
    }

    /** The settings in use. */
    public HubSettings settings() {
        return settings;
    }

    /**
     * Resolves {@code modelArg}: an existing directory, else a Hub id.
     *
     * @throws ModelDirectoryException {@code modelArg} is an existing file, or looks like a path
     *                                 ({@code ./x}, {@code /x}, {@code a/b/c}) that does not exist
     * @throws IllegalArgumentException {@code modelArg} is neither a directory nor a valid model id
     * @throws HubException             the model cannot be found or fetched (offline, HTTP errors, ...)
     */
    public ModelDirectory resolve(String modelArg) throws IOException {
        Objects.requireNonNull(modelArg, "model");
        Path local = null;
        try {
            local = Path.of(modelArg.startsWith("~/") ? System.getProperty("user.home") + modelArg.substring(1)
                    : modelArg);
        } catch (InvalidPathException ignored) {
            // not a path on this system: try it as an id
        }
        if (local != null && Files.exists(local)) {
            return ModelDirectory.of(local);
        }
        if (looksLikePath(modelArg)) {
            throw new ModelDirectoryException(local == null ? Path.of(".") : local.toAbsolutePath().normalize(),
                    "no such model directory");
        }
        ModelId id;
        try {
            id = ModelId.parse(modelArg);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + modelArg + "' is neither an existing directory nor a Hub model id: "
                    + e.getMessage(), e);
        }
        return resolve(id);
    }

    /** Resolves a Hub id: the complete cached snapshot, else a download (unless offline). */
    public ModelDirectory resolve(ModelId id) throws IOException {
        HubCache cache = new HubCache(settings.cacheRoot());
        List<String> missing = new ArrayList<>();
        Optional<Path> snap = cachedSnapshot(cache, id, !settings.offline(), missing);
        if (snap.isPresent()) {
            return ModelDirectory.of(snap.get());
        }
        if (settings.offline()) {
            throw new HubException("offline mode (HF_HUB_OFFLINE is set) and " + id + " is not complete in the cache "
                    + cache.root() + ": " + String.join("; ", missing));
        }
        try (HubDownloader dl = downloaders.get()) {
            return download(dl, id);
        } catch (HubConnectionException e) {
            // network trouble: like huggingface_hub, fall back to a cached snapshot that has what is required
            Optional<Path> usable = cachedSnapshot(cache, id, false, new ArrayList<>());
            if (usable.isEmpty()) {
                throw e;
            }
            System.err.println("attn4j: " + e.getMessage() + "; using the cached snapshot " + usable.get());
            return ModelDirectory.of(usable.get());
        }
    }

    private ModelDirectory download(HubDownloader dl, ModelId id) throws IOException {
        HubSnapshot s = dl.download(id, required, optional);
        if (weights) {
            ModelId at = id.withRevision(s.commit());
            HubSnapshot w = dl.download(at, List.of(), List.of(ModelDirectory.WEIGHTS));
            if (!w.files().contains(ModelDirectory.WEIGHTS)) {
                HubSnapshot idx = dl.download(at, List.of(), List.of(ModelDirectory.WEIGHTS_INDEX));
                if (!idx.files().contains(ModelDirectory.WEIGHTS_INDEX)) {
                    throw new HubException(id + " (commit " + s.commit() + ") has neither "
                            + ModelDirectory.WEIGHTS + " nor " + ModelDirectory.WEIGHTS_INDEX
                            + "; only safetensors weights are supported");
                }
                dl.download(at, ModelDirectory.of(s.dir()).shardNames(), List.of());
            }
        }
        return ModelDirectory.of(s.dir());
    }

    /**
     * The snapshot of {@code id} if it holds what this source needs. {@code strict}: optional files
     * must be present or known absent (used before deciding not to ask the Hub); otherwise only
     * required files and weights count (offline use). Reasons for a miss go to {@code missing}.
     */
    Optional<Path> cachedSnapshot(HubCache cache, ModelId id, boolean strict, List<String> missing)
            throws IOException {
        Optional<String> commit = cache.resolveCommit(id);
        if (commit.isEmpty()) {
            missing.add("no " + cache.root().relativize(cache.refPath(id))
                    + " (this revision was never downloaded)");
            return Optional.empty();
        }
        String c = commit.get();
        Path dir = cache.snapshotDir(id, c);
        if (!Files.isDirectory(dir)) {
            missing.add("no snapshot " + cache.root().relativize(dir));
            return Optional.empty();
        }
        ModelDirectory md = ModelDirectory.of(dir);
        List<String> lacking = new ArrayList<>();
        for (String f : required) {
            if (!md.has(f)) {
                lacking.add(f);
            }
        }
        if (strict) {
            for (String f : optional) {
                if (!md.has(f) && !cache.isKnownAbsent(id, c, f)) {
                    lacking.add(f + " (optional, never looked up)");
                }
            }
        }
        if (weights && !md.has(ModelDirectory.WEIGHTS)) {
            if (md.has(ModelDirectory.WEIGHTS_INDEX)) {
                for (String shard : md.shardNames()) {
                    if (!md.has(shard)) {
                        lacking.add(shard);
                    }
                }
            } else if (cache.isKnownAbsent(id, c, ModelDirectory.WEIGHTS)
                    && cache.isKnownAbsent(id, c, ModelDirectory.WEIGHTS_INDEX)) {
                lacking.add(ModelDirectory.WEIGHTS + " (the repository has no safetensors weights)");
            } else {
                lacking.add(ModelDirectory.WEIGHTS + " or " + ModelDirectory.WEIGHTS_INDEX);
            }
        }
        if (!lacking.isEmpty()) {
            missing.add("snapshot " + dir + " lacks " + String.join(", ", lacking));
            return Optional.empty();
        }
        return Optional.of(dir);
    }

    /** Whether the argument is clearly meant as a file system path rather than an id. */
    private static boolean looksLikePath(String s) {
        int at = s.indexOf('@');
        String repo = at < 0 ? s : s.substring(0, at);
        return s.startsWith("/") || s.startsWith("./") || s.startsWith("../") || s.startsWith("~") || s.equals(".")
                || s.equals("..") || repo.contains("\\") || repo.chars().filter(ch -> ch == '/').count() > 1
                || (s.length() > 1 && s.charAt(1) == ':');
    }
}
