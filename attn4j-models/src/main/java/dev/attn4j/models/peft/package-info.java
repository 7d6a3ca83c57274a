/**
 * peft-format LoRA adapters: {@code adapter_config.json} and {@code adapter_model.safetensors} as
 * Hugging Face's peft writes and reads them ({@link dev.attn4j.models.peft.PeftAdapter}), on top of
 * attn4j-core's {@link dev.attn4j.nn.Lora} injection.
 */
package dev.attn4j.models.peft;
