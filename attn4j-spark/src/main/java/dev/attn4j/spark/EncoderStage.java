package dev.attn4j.spark;

import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamValidators;

/**
 * A {@link TextStage} that runs an encoder: texts per forward pass ({@code batchSize}), tokens
 * per text ({@code maxLength}) and attn4j kernel threads per Spark task ({@code threadsPerTask},
 * see {@link KernelThreads}).
 */
public abstract class EncoderStage extends TextStage {
    private final IntParam batchSize;
    private final IntParam maxLength;
    private final IntParam threadsPerTask;

    protected EncoderStage(String uid) {
        super(uid);
        this.batchSize = new IntParam(this, "batchSize", "texts per forward pass (sorted by length within a chunk of rows)",
                ParamValidators.gtEq(1));
        this.maxLength = new IntParam(this, "maxLength", "tokens per text, special tokens included, longer texts truncated"
                + " (0: the model's own limit)", ParamValidators.gtEq(0));
        this.threadsPerTask = new IntParam(this, "threadsPerTask", "attn4j kernel threads per Spark task (1: each task computes"
                + " on its own thread; k > 1: the executor's kernel pool has k threads per task slot, so set spark.task.cpus=k)",
                ParamValidators.gtEq(1));
        setDefault(batchSize, 32);
        setDefault(maxLength, 0);
        setDefault(threadsPerTask, 1);
    }

    public final IntParam batchSize() {
        return batchSize;
    }

    public final int getBatchSize() {
        return (Integer) getOrDefault(batchSize);
    }

    public final IntParam maxLength() {
        return maxLength;
    }

    public final int getMaxLength() {
        return (Integer) getOrDefault(maxLength);
    }

    public final IntParam threadsPerTask() {
        return threadsPerTask;
    }

    public final int getThreadsPerTask() {
        return (Integer) getOrDefault(threadsPerTask);
    }
}
