package dev.attn4j.hub;

import java.io.IOException;

/**
 * A model could not be found, fetched or stored: offline with an incomplete cache, a failed or
 * refused HTTP request, a download that does not match its checksum, a broken cache entry. The
 * message names the model, URL or file concerned.
 */
public class HubException extends IOException {
    /** An error with a message that names what went wrong. */
    public HubException(String message) {
        super(message);
    }

    /** As {@link #HubException(String)}, keeping the underlying cause. */
    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
