/**
 * Per-token explanations of a sequence classifier's decision: gradient x input on the token
 * embeddings and attention rollout (Abnar and Zuidema 2020). See {@link dev.attn4j.explain.Explainer}.
 */
package dev.attn4j.explain;
