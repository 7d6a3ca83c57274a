package dev.attn4j.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code attn4j summarize}: {@code translate --model} for summarization checkpoints (BART, T5):
 * the model's {@code task_specific_params.summarization} (T5's {@code prefix "summarize: "},
 * beams, lengths, no-repeat n-grams), when it has one, applies over its generation config, as
 * transformers' summarization pipeline applies it; options override both.
 */
@Command(name = "summarize", mixinStandardHelpOptions = true,
        description = {"Summarize texts with a BART or T5 checkpoint (its task_specific_params.summarization apply, as in transformers' "
                + "summarization pipeline).",
                "One summary per line in input order; with --json one line {\"source\", \"output\", \"token_ids\"} per input."})
public final class SummarizeCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "M", required = true,
            description = "Directory or Hugging Face id of an encoder-decoder (model_type bart, t5, mt5, mbart, marian).")
    String model;

    @Mixin
    Seq2SeqModelOptions inputs = new Seq2SeqModelOptions();

    @Mixin
    GenerationOptions generation = new GenerationOptions();

    @Option(names = "--json", description = "One JSON line {\"source\", \"output\", \"token_ids\"} per input.")
    boolean json;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Texts to summarize.")
    List<String> texts = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        TranslateCommand.runPretrained(model, inputs, generation, texts, json, "summarization");
        return 0;
    }
}
