package dev.attn4j.hub;

import java.net.URI;

/** The Hub (or the CDN it redirected to) answered with an HTTP error status. */
public class HubHttpException extends HubException {
    private final transient URI uri;
    private final int status;
    private final String errorCode;

    /**
     * @param uri       the URL requested
     * @param status    the HTTP status received
     * @param errorCode the Hub's {@code X-Error-Code} header (e.g. {@code EntryNotFound}), or null
     * @param message   full message; should contain the URL and status
     */
    public HubHttpException(URI uri, int status, String errorCode, String message) {
        super(message);
        this.uri = uri;
        this.status = status;
        this.errorCode = errorCode;
    }

    /** The URL that failed. */
    public URI uri() {
        return uri;
    }

    /** The HTTP status code. */
    public int status() {
        return status;
    }

    /** The Hub's {@code X-Error-Code} header value, or null when the server sent none. */
    public String errorCode() {
        return errorCode;
    }
}
