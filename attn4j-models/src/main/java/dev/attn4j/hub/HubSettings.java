package dev.attn4j.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Hub settings read from environment variables, the same ones {@code huggingface_hub} reads.
 * The environment is passed in as a map so that callers (and tests) need not change the real one.
 * <ul>
 *   <li>cache root: {@code HF_HUB_CACHE}, else {@code HUGGINGFACE_HUB_CACHE}, else
 *       {@code $HF_HOME/hub}, else {@code $XDG_CACHE_HOME/huggingface/hub}, else
 *       {@code ~/.cache/huggingface/hub};</li>
 *   <li>endpoint: {@code HF_ENDPOINT}, default {@code https://huggingface.co};</li>
 *   <li>token: {@code HF_TOKEN}, else {@code HUGGING_FACE_HUB_TOKEN}, else the file named by
 *       {@code HF_TOKEN_PATH}, else {@code $HF_HOME/token} (written by {@code hf auth login});</li>
 *   <li>offline: {@code HF_HUB_OFFLINE} set to 1/true/yes/on;</li>
 *   <li>progress bars: on unless {@code HF_HUB_DISABLE_PROGRESS_BARS} is true.</li>
 * </ul>
 *
 * @param cacheRoot    the Hub cache directory
 * @param endpoint     Hub base URL, without trailing slash
 * @param token        access token sent as {@code Authorization: Bearer}, if any
 * @param offline      whether only the cache may be used
 * @param progressBars whether downloads draw a progress bar on stderr
 */
public record HubSettings(Path cacheRoot, URI endpoint, Optional<String> token, boolean offline,
                          boolean progressBars) {
    /** The public Hub. */
    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    /** Checks the endpoint is an absolute http(s) URL and strips a trailing slash. */
    public HubSettings {
        cacheRoot = cacheRoot.toAbsolutePath().normalize();
        endpoint = checkEndpoint(endpoint.toString());
        token = token.filter(t -> !t.isBlank()).map(String::strip);
    }

    /** Settings from the real process environment. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** Settings from {@code env} (see the class comment for the variables read). */
    public static HubSettings fromEnvironment(Map<String, String> env) {
        String ep = nonBlank(env.get("HF_ENDPOINT"));
        URI endpoint = ep == null ? DEFAULT_ENDPOINT : checkEndpoint(ep);
        return new HubSettings(cacheRoot(env), endpoint, token(env), isTrue(env.get("HF_HUB_OFFLINE")),
                !isTrue(env.get("HF_HUB_DISABLE_PROGRESS_BARS")));
    }

    /** The same settings with offline mode on or off. */
    public HubSettings withOffline(boolean newOffline) {
        return new HubSettings(cacheRoot, endpoint, token, newOffline, progressBars);
    }

    /** The Hub cache root that {@code env} selects (see the class comment). */
    public static Path cacheRoot(Map<String, String> env) {
        String hubCache = nonBlank(env.get("HF_HUB_CACHE"));
        if (hubCache == null) {
            hubCache = nonBlank(env.get("HUGGINGFACE_HUB_CACHE"));
        }
        if (hubCache != null) {
            return expandHome(hubCache, env);
        }
        return hfHome(env).resolve("hub");
    }

    /** {@code $HF_HOME}, else {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface}. */
    static Path hfHome(Map<String, String> env) {
        String home = nonBlank(env.get("HF_HOME"));
        if (home != null) {
            return expandHome(home, env);
        }
        String xdg = nonBlank(env.get("XDG_CACHE_HOME"));
        Path cache = xdg != null ? expandHome(xdg, env) : userHome(env).resolve(".cache");
        return cache.resolve("huggingface");
    }

    private static Optional<String> token(Map<String, String> env) {
        for (String var : new String[] {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
            String t = nonBlank(env.get(var));
            if (t != null) {
                return Optional.of(t.strip());
            }
        }
        String tokenPath = nonBlank(env.get("HF_TOKEN_PATH"));
        Path file = tokenPath != null ? expandHome(tokenPath, env) : hfHome(env).resolve("token");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(nonBlank(Files.readString(file, StandardCharsets.UTF_8))).map(String::strip);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Hugging Face token file " + file + ": " + e.getMessage(), e);
        }
    }

    private static URI checkEndpoint(String text) {
        String s = text.strip();
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        URI uri;
        try {
            uri = new URI(s);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("Hub endpoint '" + text + "' is not a valid URL: " + e.getMessage(), e);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw new IllegalArgumentException("Hub endpoint '" + text + "' must be an absolute http(s) URL");
        }
        return uri;
    }

    private static Path expandHome(String path, Map<String, String> env) {
        if (path.equals("~")) {
            return userHome(env);
        }
        if (path.startsWith("~/")) {
            return userHome(env).resolve(path.substring(2));
        }
        return Path.of(path);
    }

    private static Path userHome(Map<String, String> env) {
        String home = nonBlank(env.get("HOME"));
        return Path.of(home != null ? home : System.getProperty("user.home"));
    }

    /** huggingface_hub's notion of a true flag: 1, ON, YES, TRUE (any case). */
    static boolean isTrue(String value) {
        if (value == null) {
            return false;
        }
        String v = value.strip().toUpperCase(Locale.ROOT);
        return v.equals("1") || v.equals("ON") || v.equals("YES") || v.equals("TRUE");
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
