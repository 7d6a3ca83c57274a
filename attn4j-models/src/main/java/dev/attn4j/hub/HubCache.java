package dev.attn4j.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The Hugging Face Hub cache on disk, in the layout {@code huggingface_hub} uses, so that Python
 * and attn4j share downloads:
 * <pre>
 * &lt;root&gt;/models--org--name/
 *     refs/&lt;revision&gt;                 text file holding the commit sha of a branch or tag
 *     blobs/&lt;etag&gt;                     file contents, named by ETag (sha256 for LFS, git sha1 else)
 *     blobs/&lt;etag&gt;.incomplete          a download in progress (resumable)
 *     snapshots/&lt;commit&gt;/&lt;file&gt;       relative symlink to ../../blobs/&lt;etag&gt;
 *     .no_exist/&lt;commit&gt;/&lt;file&gt;       empty file: the Hub said the file does not exist
 * &lt;root&gt;/.locks/models--org--name/&lt;etag&gt;.lock
 * </pre>
 * File names are repository paths with {@code /} separators (e.g. {@code 1_Pooling/config.json}).
 */
public final class HubCache {
    private final Path root;

    /** A cache rooted at {@code root} (need not exist yet). */
    public HubCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** The cache that {@code env} selects; see {@link #resolveRoot(Map)}. */
    public static HubCache fromEnvironment(Map<String, String> env) {
        return new HubCache(resolveRoot(env));
    }

    /**
     * The cache root: {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else
     * {@code ~/.cache/huggingface/hub} (details in {@link HubSettings}).
     */
    public static Path resolveRoot(Map<String, String> env) {
        return HubSettings.cacheRoot(env).toAbsolutePath().normalize();
    }

    /** The cache root directory. */
    public Path root() {
        return root;
    }

    /** {@code <root>/models--org--name}. */
    public Path repoDir(ModelId id) {
        return root.resolve(id.cacheFolderName());
    }

    /**
     * The commit that {@code id}'s revision designates in this cache: the revision itself when it
     * is a commit sha, else the content of {@code refs/<revision>}; empty when there is no such ref.
     *
     * @throws HubException when the ref file does not hold a commit sha
     */
    public Optional<String> resolveCommit(ModelId id) throws HubException {
        if (id.revisionIsCommit()) {
            return Optional.of(id.revision());
        }
        Path ref = refPath(id);
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        String sha;
        try {
            sha = Files.readString(ref, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new HubException(ref + ": cannot read ref: " + e.getMessage(), e);
        }
        if (!ModelId.isCommit(sha)) {
            throw new HubException(ref + ": does not hold a 40-hex-digit commit sha (found '"
                    + (sha.length() > 60 ? sha.substring(0, 60) + "..." : sha) + "')");
        }
        return Optional.of(sha);
    }

    /** {@code snapshots/<commit>} for {@code id}'s revision, when the commit is known and the folder exists. */
    public Optional<Path> snapshotDir(ModelId id) throws HubException {
        return resolveCommit(id).map(c -> snapshotDir(id, c)).filter(Files::isDirectory);
    }

    /** {@code snapshots/<commit>} (whether or not it exists). */
    public Path snapshotDir(ModelId id, String commit) {
        checkCommit(commit);
        return repoDir(id).resolve("snapshots").resolve(commit);
    }

    /** Path of the file {@code file} in the snapshot of {@code commit} (whether or not it exists). */
    public Path snapshotFile(ModelId id, String commit, String file) {
        return resolveFile(snapshotDir(id, commit), file);
    }

    /**
     * The files present in a snapshot directory, as repository paths with {@code /}, sorted.
     * Dangling links count as absent. Empty when the directory does not exist.
     */
    public static SortedSet<String> listFiles(Path snapshotDir) throws HubException {
        SortedSet<String> names = new TreeSet<>();
        if (!Files.isDirectory(snapshotDir)) {
            return names;
        }
        try (Stream<Path> walk = Files.walk(snapshotDir)) {
            walk.filter(Files::isRegularFile).forEach(p -> {
                StringBuilder sb = new StringBuilder();
                for (Path part : snapshotDir.relativize(p)) {
                    sb.append(sb.isEmpty() ? "" : "/").append(part);
                }
                names.add(sb.toString());
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new HubException(snapshotDir + ": cannot list files: " + e.getMessage(), e);
        }
        return names;
    }

    /** Whether {@code file} is recorded as not existing at {@code commit} ({@code .no_exist} marker). */
    public boolean isKnownAbsent(ModelId id, String commit, String file) {
        return Files.isRegularFile(resolveFile(repoDir(id).resolve(".no_exist").resolve(commit), file));
    }

    /** {@code blobs/<etag>}. */
    public Path blobPath(ModelId id, String etag) {
        checkEtag(etag);
        return repoDir(id).resolve("blobs").resolve(etag);
    }

    /** {@code blobs/<etag>.incomplete}: where a download in progress is written. */
    public Path incompletePath(ModelId id, String etag) {
        return blobPath(id, etag).resolveSibling(etag + ".incomplete");
    }

    /** {@code <root>/.locks/models--org--name/<etag>.lock}. */
    public Path lockPath(ModelId id, String etag) {
        checkEtag(etag);
        return root.resolve(".locks").resolve(id.cacheFolderName()).resolve(etag + ".lock");
    }

    /** {@code refs/<revision>} of {@code id}. */
    public Path refPath(ModelId id) {
        return resolveFile(repoDir(id).resolve("refs"), id.revision());
    }

    /** Records that {@code id}'s revision (a branch or tag) points at {@code commit}; no-op for commit revisions. */
    void writeRef(ModelId id, String commit) throws IOException {
        checkCommit(commit);
        if (id.revisionIsCommit()) {
            return;
        }
        Path ref = refPath(id);
        Files.createDirectories(ref.getParent());
        if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) {
            return;
        }
        dev.attn4j.io.AtomicFiles.write(ref, commit.getBytes(StandardCharsets.UTF_8));
    }

    /** Writes the {@code .no_exist/<commit>/<file>} marker. */
    void markAbsent(ModelId id, String commit, String file) throws IOException {
        checkCommit(commit);
        Path marker = resolveFile(repoDir(id).resolve(".no_exist").resolve(commit), file);
        Files.createDirectories(marker.getParent());
        if (!Files.exists(marker)) {
            try {
                Files.createFile(marker);
            } catch (FileAlreadyExistsException ignored) {
                // another process wrote it
            }
        }
    }

    /**
     * Makes {@code snapshots/<commit>/<file>} point at {@code blob}: a relative symlink, or a copy
     * where the file system has no symlinks. Replaces an existing entry atomically.
     */
    Path link(ModelId id, String commit, String file, Path blob) throws IOException {
        Path pointer = snapshotFile(id, commit, file);
        Files.createDirectories(pointer.getParent());
        Path tmp = pointer.resolveSibling(pointer.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createSymbolicLink(tmp, pointer.getParent().relativize(blob));
        } catch (UnsupportedOperationException | IOException noLinks) {
            Files.deleteIfExists(tmp);
            Files.copy(blob, tmp);
        }
        try {
            Files.move(tmp, pointer, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return pointer;
    }

    /**
     * Resolves a repository path ({@code a/b.json}) under {@code dir}, refusing absolute paths,
     * empty segments, {@code .} and {@code ..}, and backslashes.
     *
     * @throws IllegalArgumentException naming the bad file name
     */
    static Path resolveFile(Path dir, String file) {
        checkFileName(file);
        Path p = dir;
        for (String seg : file.split("/")) {
            p = p.resolve(seg);
        }
        return p;
    }

    /** Checks that {@code file} is a safe relative repository path. */
    static void checkFileName(String file) {
        if (file == null || file.isEmpty()) {
            throw new IllegalArgumentException("file name is empty");
        }
        if (file.startsWith("/") || file.endsWith("/") || file.contains("\\") || file.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("file name '" + file
                    + "' must be a relative path with '/' separators");
        }
        for (String seg : file.split("/", -1)) {
            if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
                throw new IllegalArgumentException("file name '" + file + "' has an empty, '.' or '..' segment");
            }
        }
    }

    private static void checkCommit(String commit) {
        if (!ModelId.isCommit(commit)) {
            throw new IllegalArgumentException("'" + commit + "' is not a 40-hex-digit commit sha");
        }
    }

    private static void checkEtag(String etag) {
        if (etag == null || etag.isEmpty() || etag.length() > 200 || !etag.matches("[A-Za-z0-9._-]+")
                || etag.startsWith(".")) {
            throw new IllegalArgumentException("ETag '" + etag + "' cannot name a blob file");
        }
    }
}
