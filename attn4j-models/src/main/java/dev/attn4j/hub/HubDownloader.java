package dev.attn4j.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads files of a model repository from a Hugging Face Hub endpoint into a {@link HubCache}.
 * <p>
 * For each file it sends {@code HEAD {endpoint}/{org}/{name}/resolve/{revision}/{file}} (not
 * following redirects, except relative ones, which the Hub uses for renamed repositories) and
 * reads the commit ({@code X-Repo-Commit}), the blob's ETag ({@code X-Linked-Etag} for LFS files,
 * else {@code ETag}), the size ({@code X-Linked-Size}, else {@code Content-Length}) and, for LFS
 * files, the CDN location of the 302 redirect. Once the first answer has fixed the commit, the
 * other files are requested at that commit, so one call never mixes two revisions of a branch.
 * <p>
 * Contents go to {@code blobs/<etag>.incomplete}, resumed with a {@code Range} request when a
 * partial file is there; the file is renamed to {@code blobs/<etag>} only when it has the
 * announced size and, when the ETag is a sha256 (LFS files), that checksum. Then
 * {@code snapshots/<commit>/<file>} is linked to the blob and {@code refs/<revision>} written.
 * Files already in the snapshot cost no request when the revision is a commit.
 * <p>
 * The access token goes to the Hub endpoint only, never to a CDN on another host. Optional files
 * that the Hub reports missing (404) are skipped and recorded in {@code .no_exist}; every other
 * failure is a {@link HubException} naming the URL and, for HTTP errors, the status.
 */
public final class HubDownloader implements AutoCloseable {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes\\s+(\\d+)-(\\d+)/(\\d+|\\*)");
    private static final int MAX_REDIRECTS = 10;
    /** File locks guard against other processes; this guards threads of this JVM (FileLock cannot). */
    private static final java.util.concurrent.ConcurrentHashMap<Path, Object> IN_PROCESS_LOCKS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private final HubCache cache;
    private final URI endpoint;
    private final String token;
    private final PrintStream progress;
    private final Duration readTimeout;
    private final HttpClient http;
    private final String userAgent;

    private HubDownloader(Builder b) {
        this.cache = Objects.requireNonNull(b.cache, "cache");
        this.endpoint = b.endpoint;
        this.token = b.token;
        this.progress = b.progress;
        this.readTimeout = b.readTimeout;
        this.userAgent = "attn4j/0.1; java/" + Runtime.version().feature();
        this.http = HttpClient.newBuilder()
                .connectTimeout(b.connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** A builder; {@link Builder#cache(HubCache)} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** A downloader configured from {@code settings} (cache, endpoint, token, progress bars on stderr). */
    public static HubDownloader fromSettings(HubSettings settings) {
        return builder().cache(new HubCache(settings.cacheRoot()))
                .endpoint(settings.endpoint())
                .token(settings.token().orElse(null))
                .progress(settings.progressBars() ? System.err : null)
                .build();
    }

    /** The cache this downloader writes to. */
    public HubCache cache() {
        return cache;
    }

    /** {@code {endpoint}/{org}/{name}/resolve/{revision}/{file}}, percent-encoded like huggingface_hub. */
    public URI resolveUrl(ModelId id, String file) {
        HubCache.checkFileName(file);
        StringBuilder sb = new StringBuilder(endpoint.toString());
        sb.append('/').append(id.repoId()).append("/resolve/").append(encode(id.revision(), false)).append('/');
        sb.append(encode(file, true));
        return URI.create(sb.toString());
    }

    /**
     * Makes sure the snapshot of {@code id} contains the {@code required} and, where the Hub has
     * them, the {@code optional} files, downloading what is missing.
     *
     * @return the snapshot: commit, directory, files present and optional files the Hub lacks
     * @throws HubException a required file is missing ({@link HubHttpException} with 404), access is
     *                      refused (401/403), the network fails, or a download is corrupt
     */
    public HubSnapshot download(ModelId id, Collection<String> required, Collection<String> optional)
            throws HubException {
        LinkedHashSet<String> req = new LinkedHashSet<>(required);
        LinkedHashSet<String> opt = new LinkedHashSet<>(optional);
        opt.removeAll(req);
        req.forEach(HubCache::checkFileName);
        opt.forEach(HubCache::checkFileName);
        String commit = id.revisionIsCommit() ? id.revision() : null;
        List<String> fetched = new ArrayList<>();
        List<String> absent = new ArrayList<>();
        List<String> all = new ArrayList<>(req);
        all.addAll(opt);
        for (String file : all) {
            boolean isRequired = req.contains(file);
            if (commit != null && Files.isRegularFile(cache.snapshotFile(id, commit, file))) {
                continue;
            }
            if (commit != null && !isRequired && cache.isKnownAbsent(id, commit, file)) {
                absent.add(file);
                continue;
            }
            ModelId at = commit == null ? id : id.withRevision(commit);
            URI url = resolveUrl(at, file);
            FileMeta meta = head(id, url, file);
            if (meta.missing) {
                if (meta.commit != null && commit == null) {
                    commit = meta.commit;
                    writeRef(id, commit);
                }
                if (meta.commit != null) {
                    markAbsent(id, meta.commit, file);
                }
                if (isRequired) {
                    throw meta.error;
                }
                absent.add(file);
                continue;
            }
            if (commit == null) {
                commit = meta.commit;
                writeRef(id, commit);
            } else if (!commit.equals(meta.commit)) {
                throw new HubException(url + ": the Hub answered for commit " + meta.commit + ", expected " + commit);
            }
            fetch(id, commit, file, meta);
            fetched.add(file);
        }
        if (commit == null) {
            throw new HubException(id + ": could not determine the commit (no file was found on " + endpoint + ")");
        }
        Path dir = cache.snapshotDir(id, commit);
        return new HubSnapshot(id, commit, dir, HubCache.listFiles(dir), List.copyOf(fetched), List.copyOf(absent));
    }

    /** Closes the HTTP client. */
    @Override
    public void close() {
        http.close();
    }

    // ---------------------------------------------------------------------------------- HEAD

    /** What a HEAD on a resolve URL told us. {@code missing} with {@code error} set for a 404. */
    private record FileMeta(URI url, String commit, String etag, long size, URI location, boolean missing,
                            HubHttpException error) {
    }

    private FileMeta head(ModelId id, URI url, String file) throws HubException {
        URI current = url;
        for (int hop = 0; ; hop++) {
            HttpRequest req = request(current, true).method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
            HttpResponse<Void> resp = send(req, HttpResponse.BodyHandlers.discarding(), current);
            int status = resp.statusCode();
            String commit = header(resp, "X-Repo-Commit");
            if (status >= 300 && status < 400) {
                String loc = header(resp, "Location");
                if (loc == null) {
                    throw new HubHttpException(current, status, null, current + ": HTTP " + status
                            + " redirect without a Location header");
                }
                URI target = current.resolve(loc);
                boolean relative = URI.create(loc).getHost() == null;
                if (relative) {
                    // renamed repository: follow, staying on the Hub
                    if (hop >= MAX_REDIRECTS) {
                        throw new HubException(url + ": more than " + MAX_REDIRECTS + " redirects");
                    }
                    current = target;
                    continue;
                }
                // LFS file: the 302 itself carries the metadata; the content is at the CDN location
                return meta(id, current, resp, commit, target, file);
            }
            if (status == 404 && !isRepoLevelError(resp)) {
                return new FileMeta(current, validCommitOrNull(commit), null, -1, null, true,
                        httpError(current, resp, id, file));
            }
            if (status != 200) {
                throw httpError(current, resp, id, file);
            }
            return meta(id, current, resp, commit, current, file);
        }
    }

    private FileMeta meta(ModelId id, URI url, HttpResponse<?> resp, String commit, URI location, String file)
            throws HubException {
        if (commit == null) {
            throw new HubException(url + ": response has no X-Repo-Commit header; is " + endpoint
                    + " a Hugging Face Hub endpoint?");
        }
        if (!ModelId.isCommit(commit)) {
            throw new HubException(url + ": X-Repo-Commit '" + commit + "' is not a commit sha");
        }
        String etag = header(resp, "X-Linked-Etag");
        if (etag == null) {
            etag = header(resp, "ETag");
        }
        etag = normalizeEtag(etag);
        if (etag == null) {
            throw new HubException(url + ": response has no ETag header, so " + file
                    + " cannot be cached reproducibly");
        }
        try {
            cache.blobPath(id, etag);
        } catch (IllegalArgumentException e) {
            throw new HubException(url + ": " + e.getMessage(), e);
        }
        long size = parseLong(header(resp, "X-Linked-Size"));
        if (size < 0) {
            size = parseLong(header(resp, "Content-Length"));
        }
        return new FileMeta(url, commit, etag, size, location, false, null);
    }

    /** Strips a weak-validator prefix and the quotes: {@code W/"abc"} becomes {@code abc}. */
    static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e.isEmpty() ? null : e;
    }

    private static boolean isRepoLevelError(HttpResponse<?> resp) {
        String code = header(resp, "X-Error-Code");
        return "RepoNotFound".equals(code) || "RevisionNotFound".equals(code) || "GatedRepo".equals(code);
    }

    // ---------------------------------------------------------------------------------- GET

    private void fetch(ModelId id, String commit, String file, FileMeta meta) throws HubException {
        Path blob = cache.blobPath(id, meta.etag);
        try {
            if (!Files.isRegularFile(blob)) {
                Path lockFile = cache.lockPath(id, meta.etag);
                Files.createDirectories(lockFile.getParent());
                Files.createDirectories(blob.getParent());
                synchronized (IN_PROCESS_LOCKS.computeIfAbsent(lockFile.toAbsolutePath(), k -> new Object())) {
                    try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE);
                         FileLock ignored = lockChannel.lock()) {
                        if (!Files.isRegularFile(blob)) {
                            downloadBlob(id, file, meta, blob);
                        }
                    }
                }
            }
            cache.link(id, commit, file, blob);
        } catch (HubException e) {
            throw e;
        } catch (IOException e) {
            throw new HubException(meta.location + ": cannot store " + file + " in " + cache.repoDir(id) + ": "
                    + e.getMessage(), e);
        }
    }

    private void downloadBlob(ModelId id, String file, FileMeta meta, Path blob) throws IOException {
        Path partial = cache.incompletePath(id, meta.etag);
        long have = Files.isRegularFile(partial) ? Files.size(partial) : 0;
        if (meta.size >= 0 && have > meta.size) {
            Files.delete(partial);
            have = 0;
        }
        if (meta.size < 0 || have < meta.size || have == 0) {
            have = transfer(file, meta, partial, have);
        }
        if (meta.size >= 0 && have != meta.size) {
            throw new HubException(meta.location + ": downloaded " + have + " bytes of " + file + ", expected "
                    + meta.size + "; the partial file " + partial + " is kept and the next attempt resumes it");
        }
        if (SHA256.matcher(meta.etag).matches()) {
            String actual = sha256(partial);
            if (!actual.equals(meta.etag)) {
                Files.deleteIfExists(partial);
                throw new HubException(meta.location + ": checksum mismatch for " + file + ": expected sha256 "
                        + meta.etag + ", got " + actual + " (" + have + " bytes); the download was deleted");
            }
        }
        Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * GETs {@code meta.location} into {@code partial}, asking for the bytes from {@code have} on
     * when a partial file is there. Returns the size of {@code partial} afterwards.
     */
    private long transfer(String file, FileMeta meta, Path partial, long have) throws IOException {
        URI current = meta.location;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder rb = request(current, sameOrigin(current, endpoint)).GET();
            if (have > 0) {
                rb.header("Range", "bytes=" + have + "-");
            }
            HttpResponse<InputStream> resp = send(rb.build(), HttpResponse.BodyHandlers.ofInputStream(), current);
            int status = resp.statusCode();
            if (status >= 300 && status < 400) {
                resp.body().close();
                String loc = header(resp, "Location");
                if (loc == null || hop >= MAX_REDIRECTS) {
                    throw new HubHttpException(current, status, null, current + ": HTTP " + status
                            + (loc == null ? " redirect without a Location header" : ": too many redirects"));
                }
                current = current.resolve(loc);
                continue;
            }
            if (status == 416 && have > 0) {
                // the partial file does not fit what the server has: start over
                resp.body().close();
                Files.deleteIfExists(partial);
                have = 0;
                continue;
            }
            boolean append;
            if (status == 206 && have > 0) {
                long start = rangeStart(header(resp, "Content-Range"));
                if (start != have) {
                    resp.body().close();
                    throw new HubException(current + ": asked for bytes from " + have
                            + " but the server sent Content-Range '" + header(resp, "Content-Range") + "'");
                }
                append = true;
            } else if (status == 200) {
                append = false; // fresh download, or the server ignored the Range header
                have = 0;
            } else {
                String body = readSome(resp.body());
                throw httpError(current, resp.statusCode(), header(resp, "X-Error-Code"),
                        firstNonNull(header(resp, "X-Error-Message"), body), null, file);
            }
            long total = meta.size;
            if (total < 0) {
                long len = parseLong(header(resp, "Content-Length"));
                total = len < 0 ? -1 : have + len;
            }
            copyBody(file, current, resp.body(), partial, append, have, total);
            return Files.size(partial);
        }
    }

    /** Streams the body into the partial file, aborting when no byte arrives for {@link #readTimeout}. */
    private void copyBody(String file, URI url, InputStream body, Path partial, boolean append, long have, long total)
            throws IOException {
        ProgressBar bar = new ProgressBar(progress, file, total, have);
        Watchdog dog = new Watchdog(Thread.currentThread(), readTimeout);
        long got = have;
        try (InputStream in = body;
             OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            Thread.startVirtualThread(dog);
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                got += n;
                dog.alive();
                bar.advance(n);
            }
        } catch (IOException e) {
            boolean stalled = dog.stop();
            bar.finish("failed");
            String why = stalled ? "no data for " + readTimeout.toMillis() + " ms" : e.toString();
            throw new HubConnectionException(url + ": download of " + file + " interrupted after " + got + " of "
                    + (total < 0 ? "?" : String.valueOf(total)) + " bytes (" + why + "); the partial file "
                    + partial + " is kept and the next attempt resumes it", e);
        }
        if (dog.stop()) {
            bar.finish("failed");
            throw new HubConnectionException(url + ": download of " + file + " stalled (no data for "
                    + readTimeout.toMillis() + " ms); the partial file " + partial + " is kept");
        }
        bar.finish(null);
    }

    /**
     * Interrupts the downloading thread when no data arrived for the timeout; the HTTP client's
     * input stream then throws. {@link #stop()} ends the watch and clears a late interrupt.
     */
    private static final class Watchdog implements Runnable {
        private final Thread reader;
        private final long timeoutNanos;
        private volatile long lastAlive = System.nanoTime();
        private boolean stopped;
        private boolean fired;

        Watchdog(Thread reader, Duration timeout) {
            this.reader = reader;
            this.timeoutNanos = timeout.toNanos();
        }

        void alive() {
            lastAlive = System.nanoTime();
        }

        /** Ends the watch; returns whether it fired. Clears the reader's interrupt flag if it did. */
        synchronized boolean stop() {
            stopped = true;
            notifyAll();
            if (fired) {
                Thread.interrupted();
            }
            return fired;
        }

        @Override
        public synchronized void run() {
            long step = Math.max(1_000_000L, Math.min(timeoutNanos / 4, 500_000_000L));
            while (!stopped) {
                long idle = System.nanoTime() - lastAlive;
                if (idle >= timeoutNanos) {
                    fired = true;
                    reader.interrupt();
                    return;
                }
                try {
                    wait(step / 1_000_000L, (int) (step % 1_000_000L));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------- HTTP

    private HttpRequest.Builder request(URI uri, boolean withToken) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri)
                .timeout(readTimeout.multipliedBy(2))
                .header("User-Agent", userAgent)
                .header("Accept-Encoding", "identity");
        if (withToken && token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler, URI uri)
            throws HubException {
        try {
            return http.send(req, handler);
        } catch (HttpTimeoutException e) {
            throw new HubConnectionException(uri + ": no answer within " + req.timeout().map(Duration::toMillis).orElse(0L)
                    + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(uri + ": interrupted", e);
        } catch (InterruptedIOException e) {
            throw new HubException(uri + ": interrupted: " + e, e);
        } catch (IOException e) {
            throw new HubConnectionException(uri + ": request failed: " + e, e);
        }
    }

    private HubHttpException httpError(URI url, HttpResponse<?> resp, ModelId id, String file) {
        return httpError(url, resp.statusCode(), header(resp, "X-Error-Code"), header(resp, "X-Error-Message"),
                id, file);
    }

    private HubHttpException httpError(URI url, int status, String code, String serverMessage, ModelId id,
                                       String file) {
        StringBuilder sb = new StringBuilder().append(url).append(": HTTP ").append(status);
        if (code != null) {
            sb.append(" (").append(code).append(')');
        }
        if (serverMessage != null && !serverMessage.isBlank()) {
            sb.append(": ").append(serverMessage.strip());
        }
        String what = id == null ? "the file" : id.toString();
        switch (status) {
            case 401 -> sb.append(token == null
                    ? ". " + what + " is gated or private, or does not exist; set HF_TOKEN to an access token that can read it"
                    : ". The token was refused, or " + what + " does not exist");
            case 403 -> sb.append(". The token has no access to ").append(what)
                    .append(" (for a gated model, request access on its page)");
            case 404 -> {
                if ("RevisionNotFound".equals(code)) {
                    sb.append(". Revision '").append(id == null ? "?" : id.revision()).append("' does not exist");
                } else if ("RepoNotFound".equals(code)) {
                    sb.append(". Repository ").append(id == null ? "?" : id.repoId()).append(" does not exist");
                } else if (id != null) {
                    sb.append(". ").append(file).append(" is not in ").append(id);
                }
            }
            default -> {
            }
        }
        return new HubHttpException(url, status, code, sb.toString());
    }

    private void writeRef(ModelId id, String commit) throws HubException {
        try {
            cache.writeRef(id, commit);
        } catch (IOException e) {
            throw new HubException(cache.refPath(id) + ": cannot write ref: " + e.getMessage(), e);
        }
    }

    private void markAbsent(ModelId id, String commit, String file) throws HubException {
        try {
            cache.markAbsent(id, commit, file);
        } catch (IOException e) {
            throw new HubException(cache.repoDir(id) + ": cannot record that " + file + " is absent: "
                    + e.getMessage(), e);
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        if (u.getPort() >= 0) {
            return u.getPort();
        }
        return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    private static String header(HttpResponse<?> resp, String name) {
        Optional<String> v = resp.headers().firstValue(name);
        return v.map(String::strip).filter(s -> !s.isEmpty()).orElse(null);
    }

    private static String validCommitOrNull(String s) {
        return ModelId.isCommit(s) ? s : null;
    }

    private static long parseLong(String s) {
        if (s == null) {
            return -1;
        }
        try {
            long v = Long.parseLong(s.strip());
            return v < 0 ? -1 : v;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long rangeStart(String contentRange) {
        if (contentRange == null) {
            return -1;
        }
        Matcher m = CONTENT_RANGE.matcher(contentRange.strip());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    private static String readSome(InputStream in) {
        try (in) {
            byte[] b = in.readNBytes(300);
            return new String(b, StandardCharsets.UTF_8).replaceAll("\\s+", " ").strip();
        } catch (IOException e) {
            return null;
        }
    }

    private static String firstNonNull(String a, String b) {
        return a != null ? a : b;
    }

    /** Lower-case hex sha256 of a file. */
    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Percent-encodes everything but unreserved characters (and '/' when {@code keepSlash}). */
    static String encode(String s, boolean keepSlash) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~' || (keepSlash && c == '/')) {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format(Locale.ROOT, "%02X", c));
            }
        }
        return sb.toString();
    }

    /** Configuration of a {@link HubDownloader}. */
    public static final class Builder {
        private HubCache cache;
        private URI endpoint = HubSettings.DEFAULT_ENDPOINT;
        private String token;
        private PrintStream progress;
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration readTimeout = Duration.ofSeconds(30);

        private Builder() {
        }

        /** The cache to fill (required). */
        public Builder cache(HubCache c) {
            this.cache = c;
            return this;
        }

        /** Hub base URL (default {@code https://huggingface.co}); a trailing slash is ignored. */
        public Builder endpoint(URI e) {
            String s = e.toString();
            while (s.endsWith("/")) {
                s = s.substring(0, s.length() - 1);
            }
            this.endpoint = URI.create(s);
            if (endpoint.getHost() == null) {
                throw new IllegalArgumentException("Hub endpoint '" + e + "' must be an absolute http(s) URL");
            }
            return this;
        }

        /** Access token sent as {@code Authorization: Bearer} to the endpoint; null for none. */
        public Builder token(String t) {
            this.token = t == null || t.isBlank() ? null : t.strip();
            return this;
        }

        /** Where progress bars go (e.g. {@code System.err}); null for none (the default). */
        public Builder progress(PrintStream p) {
            this.progress = p;
            return this;
        }

        /** Time allowed to open a connection (default 10 s). */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connect timeout");
            return this;
        }

        /** Longest wait for response headers (twice this) or for the next bytes of a body (default 30 s). */
        public Builder readTimeout(Duration d) {
            this.readTimeout = positive(d, "read timeout");
            return this;
        }

        /** The downloader. */
        public HubDownloader build() {
            return new HubDownloader(this);
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive, got " + d);
            }
            return d;
        }
    }
}
