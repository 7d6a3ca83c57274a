package dev.attn4j.hub;

/** The Hub endpoint (or its CDN) could not be reached or did not answer in time. */
public class HubConnectionException extends HubException {
    /** An error with a message that names the URL. */
    public HubConnectionException(String message) {
        super(message);
    }

    /** As {@link #HubConnectionException(String)}, keeping the underlying cause. */
    public HubConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
