/**
 * Hugging Face model directories: finding them ({@link dev.attn4j.hub.ModelSource}: a local
 * folder, the Hub cache shared with Python's {@code huggingface_hub} ({@link dev.attn4j.hub.HubCache}),
 * or a download from the Hub ({@link dev.attn4j.hub.HubDownloader})) and reading what is in them
 * ({@link dev.attn4j.hub.ModelDirectory}). Settings come from the usual environment variables
 * ({@link dev.attn4j.hub.HubSettings}: {@code HF_HOME}, {@code HF_HUB_CACHE}, {@code HF_ENDPOINT},
 * {@code HF_TOKEN}, {@code HF_HUB_OFFLINE}).
 */
package dev.attn4j.hub;
