package dev.attn4j.hub;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Hugging Face Hub look-alike on loopback for tests: {@code /{org}/{name}/resolve/{rev}/{file}}
 * with the Hub's headers (X-Repo-Commit, ETag = git sha1 for regular files; for "LFS" files a
 * 302 to a separate CDN server with X-Linked-Etag = sha256 and X-Linked-Size), Range requests,
 * 404 EntryNotFound / RevisionNotFound, 401 for unknown repositories and for gated ones without
 * the right token. Counts requests and body bytes, and can cut, stall or corrupt a download.
 */
final class FakeHub implements AutoCloseable {
    /** One file of a commit. */
    record Entry(byte[] content, boolean lfs) {
        String etag() {
            return lfs ? sha256(content) : gitSha1(content);
        }
    }

    /** One request as the server saw it. */
    record Seen(String server, String method, String path, String range, String authorization) {
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-hub");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Map<String, String>> branches = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Map<String, Entry>>> commits = new ConcurrentHashMap<>();
    private final Map<String, String> gatedTokens = new ConcurrentHashMap<>();
    private final Map<String, byte[]> cdnBlobs = new ConcurrentHashMap<>();
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final AtomicLong bodyBytes = new AtomicLong();

    // fault injection, applied to the next GET of content with that etag
    private final Map<String, Integer> cutAfter = new ConcurrentHashMap<>();
    private final Map<String, Integer> stallAfter = new ConcurrentHashMap<>();
    private final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();
    final CountDownLatch releaseStall = new CountDownLatch(1);

    FakeHub() throws IOException {
        hub = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        cdn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hub.createContext("/", ex -> handle(ex, true));
        cdn.createContext("/", ex -> handle(ex, false));
        hub.setExecutor(pool);
        cdn.setExecutor(pool);
        hub.start();
        cdn.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + hub.getAddress().getPort());
    }

    /** Adds (or replaces) a commit with its files and points {@code branch} at it. */
    void put(String repoId, String branch, String commit, Map<String, Entry> files) {
        commits.computeIfAbsent(repoId, k -> new ConcurrentHashMap<>()).put(commit, Map.copyOf(files));
        branches.computeIfAbsent(repoId, k -> new ConcurrentHashMap<>()).put(branch, commit);
        for (Entry e : files.values()) {
            if (e.lfs()) {
                cdnBlobs.put(e.etag(), e.content());
            }
        }
    }

    /** Requests to {@code repoId} need {@code Authorization: Bearer token}. */
    void gate(String repoId, String token) {
        gatedTokens.put(repoId, token);
    }

    /** The next GET of this content sends the full length header but only {@code n} bytes, then drops the connection. */
    void cutNextGetAfter(Entry e, int n) {
        cutAfter.put(e.etag(), n);
    }

    /** The next GET of this content sends {@code n} bytes and then waits for {@link #releaseStall}. */
    void stallNextGetAfter(Entry e, int n) {
        stallAfter.put(e.etag(), n);
    }

    /** Every GET of this content serves it with one byte changed (the ETag stays). */
    void corrupt(Entry e) {
        corrupt.put(e.etag(), true);
    }

    long requests() {
        return seen.size();
    }

    long requests(String method) {
        return seen.stream().filter(s -> s.method().equals(method)).count();
    }

    @Override
    public void close() {
        releaseStall.countDown();
        hub.stop(0);
        cdn.stop(0);
        pool.shutdownNow();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------

    private void handle(HttpExchange ex, boolean isHub) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            String rawPath = ex.getRequestURI().getRawPath();
            Headers rq = ex.getRequestHeaders();
            seen.add(new Seen(isHub ? "hub" : "cdn", method, rawPath, rq.getFirst("Range"),
                    rq.getFirst("Authorization")));
            if (!isHub) {
                String sha = rawPath.substring(rawPath.lastIndexOf('/') + 1);
                byte[] blob = cdnBlobs.get(sha);
                if (blob == null || !method.equals("GET")) {
                    send(ex, 404, null);
                    return;
                }
                serveBody(ex, blob, sha);
                return;
            }
            // /{org}/{name}/resolve/{rev}/{file...}
            String[] parts = rawPath.substring(1).split("/", 5);
            if (parts.length < 5 || !parts[2].equals("resolve")) {
                send(ex, 404, null);
                return;
            }
            String repo = parts[0] + "/" + parts[1];
            String rev = URLDecoder.decode(parts[3], StandardCharsets.UTF_8);
            String file = URLDecoder.decode(parts[4], StandardCharsets.UTF_8);
            Headers h = ex.getResponseHeaders();
            if (!commits.containsKey(repo)) {
                h.set("X-Error-Code", "RepoNotFound");
                send(ex, 401, "Repository Not Found");
                return;
            }
            String token = gatedTokens.get(repo);
            if (token != null && !("Bearer " + token).equals(rq.getFirst("Authorization"))) {
                h.set("X-Error-Code", "GatedRepo");
                h.set("X-Error-Message", "Access to model " + repo + " is restricted.");
                send(ex, 401, null);
                return;
            }
            String commit = branches.get(repo).getOrDefault(rev, commits.get(repo).containsKey(rev) ? rev : null);
            if (commit == null) {
                h.set("X-Error-Code", "RevisionNotFound");
                h.set("X-Error-Message", "Invalid rev id: " + rev);
                send(ex, 404, null);
                return;
            }
            h.set("X-Repo-Commit", commit);
            Entry e = commits.get(repo).get(commit).get(file);
            if (e == null) {
                h.set("X-Error-Code", "EntryNotFound");
                h.set("X-Error-Message", "Entry not found");
                send(ex, 404, null);
                return;
            }
            if (e.lfs()) {
                h.set("X-Linked-Etag", "\"" + e.etag() + "\"");
                h.set("X-Linked-Size", String.valueOf(e.content().length));
                h.set("ETag", "\"" + gitSha1(("version https://git-lfs.github.com/spec/v1\noid sha256:" + e.etag())
                        .getBytes(StandardCharsets.UTF_8)) + "\"");
                h.set("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + e.etag());
                send(ex, 302, null);
                return;
            }
            h.set("ETag", "\"" + e.etag() + "\"");
            if (method.equals("HEAD")) {
                h.set("Content-Length", String.valueOf(e.content().length));
                ex.sendResponseHeaders(200, -1);
                return;
            }
            serveBody(ex, e.content(), e.etag());
        } catch (RuntimeException | Error t) {
            t.printStackTrace();
            throw t;
        }
    }

    private void serveBody(HttpExchange ex, byte[] content, String etag) throws IOException {
        if (corrupt.containsKey(etag)) {
            content = content.clone();
            content[content.length / 2] ^= 0x5a;
        }
        int start = 0;
        int status = 200;
        String range = ex.getRequestHeaders().getFirst("Range");
        Headers h = ex.getResponseHeaders();
        h.set("Accept-Ranges", "bytes");
        if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
            start = Integer.parseInt(range.substring(6, range.length() - 1));
            if (start >= content.length) {
                h.set("Content-Range", "bytes */" + content.length);
                send(ex, 416, null);
                return;
            }
            status = 206;
            h.set("Content-Range", "bytes " + start + "-" + (content.length - 1) + "/" + content.length);
        }
        int len = content.length - start;
        ex.sendResponseHeaders(status, len == 0 ? -1 : len);
        if (len == 0) {
            return;
        }
        OutputStream out = ex.getResponseBody();
        Integer cut = cutAfter.remove(etag);
        Integer stall = stallAfter.remove(etag);
        int limit = cut != null ? Math.min(cut, len) : stall != null ? Math.min(stall, len) : len;
        for (int off = 0; off < limit; ) {
            int n = Math.min(8192, limit - off);
            out.write(content, start + off, n);
            bodyBytes.addAndGet(n);
            off += n;
        }
        out.flush();
        if (stall != null) {
            try {
                releaseStall.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
        if (cut != null || stall != null) {
            // drop the connection without the rest of the body
            throw new IOException("fake hub: dropping connection after " + limit + " bytes");
        }
        out.close();
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        if (ex.getRequestMethod().equals("HEAD") || b.length == 0) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String gitSha1(byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
            md.update(b);
            return HexFormat.of().formatHex(md.digest());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
