package dev.attn4j.hub;

/**
 * One entry of a sentence-transformers {@code modules.json}: a stage of the embedding pipeline.
 *
 * @param idx  position in the pipeline
 * @param name module name (usually the index as text)
 * @param path folder of the module's files relative to the model directory ({@code ""} for the root)
 * @param type Python class, e.g. {@code sentence_transformers.models.Pooling}
 */
public record SentenceTransformerModule(int idx, String name, String path, String type) {
    /** The class name without its package: {@code Transformer}, {@code Pooling}, {@code Normalize}, ... */
    public String simpleType() {
        int dot = type.lastIndexOf('.');
        return dot < 0 ? type : type.substring(dot + 1);
    }
}
