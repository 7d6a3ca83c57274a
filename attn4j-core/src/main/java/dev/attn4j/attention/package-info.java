/**
 * Attention mechanisms, differentiable and with PyTorch's semantics and parameter names.
 *
 * <ul>
 * <li>{@link dev.attn4j.attention.Attention#scaledDotProduct} ({@code F.scaled_dot_product_attention}):
 *     masks, key padding, causal, dropout, grouped-query attention, optional weights; a reference
 *     path (materialised scores) and a fused memory-efficient path (tiled online softmax,
 *     O(L * d) memory, recomputing backward), chosen by {@link dev.attn4j.attention.SdpaOptions}.</li>
 * <li>{@link dev.attn4j.attention.AttentionMask}: masks whose polarity is fixed by the factory
 *     ({@code allowed}, {@code blocked}, {@code additive}, {@code causal}); fully masked query
 *     rows give zeros, never NaN.</li>
 * <li>{@link dev.attn4j.attention.MultiHeadAttention} ({@code nn.MultiheadAttention}),
 *     {@link dev.attn4j.attention.AdditiveAttention} (Bahdanau) and
 *     {@link dev.attn4j.attention.LuongAttention} (dot, general, concat).</li>
 * </ul>
 */
package dev.attn4j.attention;
