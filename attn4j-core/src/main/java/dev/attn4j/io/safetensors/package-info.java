/**
 * Reading and writing the safetensors format: {@link dev.attn4j.io.safetensors.SafetensorsFile}
 * (memory-mapped, validated reader), {@link dev.attn4j.io.safetensors.SafetensorsCheckpoint}
 * (single file or sharded with an index), {@link dev.attn4j.io.safetensors.SafetensorsWriter}
 * (atomic writer). Problems with a file are reported as
 * {@link dev.attn4j.io.safetensors.SafetensorsException}, naming the file.
 */
package dev.attn4j.io.safetensors;
