package dev.attn4j.cli;

import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.peft.PeftAdapter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code attn4j merge}: folds a LoRA adapter into its base model (peft's merge_and_unload + save_pretrained). */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Folds a peft LoRA adapter of a sequence classifier into its base model (peft's merge_and_unload) and writes "
                + "a plain Hugging Face directory (config.json with the adapter's labels, model.safetensors, tokenizer files) "
                + "that classify and transformers read without peft.")
public final class MergeCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "BASE", description = "Base model directory or Hugging Face id "
            + "(default: the adapter's base_model_name_or_path).")
    String model;

    @Option(names = "--adapter", paramLabel = "A", required = true, description = "The peft adapter directory.")
    Path adapter;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output directory (written whole, replacing it).")
    Path out;

    @Override
    public Integer call() throws Exception {
        AdapterModels.Loaded loaded = AdapterModels.load(model, adapter);
        Path target = out.toAbsolutePath().normalize();
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".tmp-");
        try (EncoderClassifier m = loaded.model()) {
            PeftAdapter.saveMerged(tmp, m, loaded.base());
            // the merged classifier's config (labels, architectures) rather than the base's
            dev.attn4j.io.AtomicFiles.write(tmp.resolve("config.json"), FinetuneCommand.JSON.writeValueAsBytes(m.configJson()));
            for (String f : EncoderClassifier.TOKENIZER_FILES) {
                Path src = loaded.tokenizerDir().resolve(f);
                if (Files.isRegularFile(src)) Files.copy(src, tmp.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            dev.attn4j.train.ClassifierTrainer.copyDirectory(tmp, target);
        } finally {
            dev.attn4j.train.ClassifierTrainer.deleteTree(tmp);
        }
        System.err.println("merged " + loaded.adapter() + " into " + loaded.base() + ": " + target);
        return 0;
    }
}
