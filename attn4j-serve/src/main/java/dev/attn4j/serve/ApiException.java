package dev.attn4j.serve;

/**
 * A request that fails with an HTTP status and an OpenAI-style error object
 * {@code {"error": {"message", "type", "param", "code"}}}. {@code param} names the request field
 * at fault (null when none is); {@code retryAfterSeconds} adds a {@code Retry-After} header when
 * positive.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final int retryAfterSeconds;

    public ApiException(int status, String type, String message, String param, String code, int retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400: a field is missing, of the wrong type or out of range ({@code param} names it). */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", message, param, null, 0);
    }

    /** 404: no such model, or a route that needs a kind of model that is not loaded. */
    public static ApiException notFound(String param, String message) {
        return new ApiException(404, "invalid_request_error", message, param, "model_not_found", 0);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
