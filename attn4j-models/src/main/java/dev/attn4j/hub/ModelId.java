package dev.attn4j.hub;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model repository on the Hugging Face Hub plus a revision: {@code org/name[@revision]},
 * e.g. {@code sentence-transformers/all-MiniLM-L6-v2@main}. The revision is a branch, a tag,
 * or a 40-hex-digit commit; it defaults to {@code main}. Legacy ids without an organisation
 * ({@code bert-base-uncased}) are accepted too.
 *
 * @param org      the user or organisation, or {@code null} for a legacy id without one
 * @param name     the repository name
 * @param revision branch, tag or commit sha
 */
public record ModelId(String org, String name, String revision) {
    /** Revision used when none is given. */
    public static final String DEFAULT_REVISION = "main";

    /** A full (40 hex digits, lower case) git commit sha. */
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    /** One part of a repo id: letters, digits, '-', '_', '.'; starts and ends alphanumeric. */
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?");
    private static final int MAX_PART = 96;

    /** Validates all parts; see {@link #parse(String)} for the rules. */
    public ModelId {
        if (org != null) {
            checkPart(org, "organisation", org + "/" + name);
        }
        Objects.requireNonNull(name, "name");
        checkPart(name, "name", org == null ? name : org + "/" + name);
        Objects.requireNonNull(revision, "revision");
        checkRevision(revision);
    }

    /**
     * Parses {@code org/name}, {@code org/name@revision}, {@code name} or {@code name@revision}.
     *
     * @throws IllegalArgumentException naming the offending part when the text is not a valid id
     */
    public static ModelId parse(String text) {
        Objects.requireNonNull(text, "model id");
        String s = text.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("model id is empty (expected org/name[@revision])");
        }
        String revision = DEFAULT_REVISION;
        int at = s.indexOf('@');
        if (at >= 0) {
            revision = s.substring(at + 1);
            s = s.substring(0, at);
            if (revision.isEmpty()) {
                throw new IllegalArgumentException("model id '" + text + "': empty revision after '@'");
            }
        }
        int slash = s.indexOf('/');
        if (slash < 0) {
            return withMessage(text, null, s, revision);
        }
        if (s.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("model id '" + text
                    + "': more than one '/' (expected org/name[@revision])");
        }
        return withMessage(text, s.substring(0, slash), s.substring(slash + 1), revision);
    }

    private static ModelId withMessage(String text, String org, String name, String revision) {
        try {
            return new ModelId(org, name, revision);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("model id '" + text + "': " + e.getMessage(), e);
        }
    }

    /** {@code org/name} (or just {@code name}), as in Hub URLs. */
    public String repoId() {
        return org == null ? name : org + "/" + name;
    }

    /** The same repository at another revision. */
    public ModelId withRevision(String newRevision) {
        return new ModelId(org, name, newRevision);
    }

    /** Whether the revision is a full commit sha rather than a branch or tag. */
    public boolean revisionIsCommit() {
        return isCommit(revision);
    }

    /** Whether {@code s} is a full 40-hex-digit (lower case) commit sha. */
    public static boolean isCommit(String s) {
        return s != null && COMMIT.matcher(s).matches();
    }

    /** Name of this repository's folder in the Hub cache: {@code models--org--name}. */
    public String cacheFolderName() {
        return "models--" + repoId().replace("/", "--");
    }

    /** {@code org/name@revision}, parseable by {@link #parse(String)}. */
    @Override
    public String toString() {
        return repoId() + "@" + revision;
    }

    private static void checkPart(String part, String what, String repoId) {
        if (part.isEmpty()) {
            throw new IllegalArgumentException(what + " is empty in '" + repoId + "'");
        }
        if (part.length() > MAX_PART) {
            throw new IllegalArgumentException(what + " '" + part + "' is longer than " + MAX_PART + " characters");
        }
        if (!PART.matcher(part).matches()) {
            throw new IllegalArgumentException(what + " '" + part
                    + "' may only contain letters, digits, '-', '_', '.' and must start and end with a letter or digit");
        }
        if (part.contains("--") || part.contains("..")) {
            throw new IllegalArgumentException(what + " '" + part + "' must not contain '--' or '..'");
        }
    }

    private static void checkRevision(String revision) {
        if (revision.isEmpty()) {
            throw new IllegalArgumentException("revision is empty");
        }
        if (revision.length() > 255) {
            throw new IllegalArgumentException("revision is longer than 255 characters");
        }
        for (int i = 0; i < revision.length(); i++) {
            char c = revision.charAt(i);
            if (c <= ' ' || c == 0x7f || c == '\\' || c == '@' || c == ':' || c == '?' || c == '*' || c == '['
                    || c == '~' || c == '^' || c == '"' || c == '<' || c == '>' || c == '|') {
                throw new IllegalArgumentException("revision '" + revision + "' contains the character "
                        + (c <= ' ' || c == 0x7f ? String.format("U+%04X", (int) c) : "'" + c + "'"));
            }
        }
        if (revision.contains("..")) {
            throw new IllegalArgumentException("revision '" + revision + "' must not contain '..'");
        }
        if (revision.startsWith("/") || revision.endsWith("/") || revision.contains("//")) {
            throw new IllegalArgumentException("revision '" + revision + "' has an empty path segment");
        }
        for (String seg : revision.split("/")) {
            if (seg.equals(".") || seg.equals("..") || seg.startsWith(".") || seg.endsWith(".lock")) {
                throw new IllegalArgumentException("revision '" + revision + "' has an invalid segment '" + seg + "'");
            }
        }
    }
}
