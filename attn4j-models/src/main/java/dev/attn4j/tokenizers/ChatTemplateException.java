package dev.attn4j.tokenizers;

/**
 * A chat template that cannot be rendered: the template called {@code raise_exception(message)}
 * ({@link #raisedByTemplate()} is true and {@link #templateMessage()} is its message, as Python's
 * {@code TemplateError} would carry it), or the template is not valid Jinja, or the model has none.
 */
public class ChatTemplateException extends TokenizerException {
    private final boolean raisedByTemplate;
    private final String templateMessage;

    ChatTemplateException(String message, boolean raisedByTemplate) {
        super(raisedByTemplate ? "chat template raised an exception: " + message : message);
        this.raisedByTemplate = raisedByTemplate;
        this.templateMessage = message;
    }

    /** Whether the template itself called {@code raise_exception}. */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }

    /** The message given to {@code raise_exception}, or the error's message otherwise. */
    public String templateMessage() {
        return templateMessage;
    }
}
