/**
 * BERT-family encoders with Hugging Face transformers' module and key names: {@link
 * dev.attn4j.models.bert.BertModel} (BERT, RoBERTa, XLM-RoBERTa, CamemBERT) and {@link
 * dev.attn4j.models.bert.DistilBertModel}, built from the nn and attention modules so one
 * definition trains and runs inference; {@link dev.attn4j.models.bert.BertModels#load} reads a
 * model directory ({@code config.json} + safetensors, memory-mapped, F32/F16/BF16).
 */
package dev.attn4j.models.bert;
