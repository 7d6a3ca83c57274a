package dev.attn4j.spark;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KernelThreadsTest {
    @Test
    void executorCoresFollowTheMasterOrTheConf() {
        int machine = Runtime.getRuntime().availableProcessors();
        assertThat(KernelThreads.executorCores(new SparkConf(false).set("spark.master", "local"))).isEqualTo(1);
        assertThat(KernelThreads.executorCores(new SparkConf(false).set("spark.master", "local[3]"))).isEqualTo(3);
        assertThat(KernelThreads.executorCores(new SparkConf(false).set("spark.master", "local[*]"))).isEqualTo(machine);
        assertThat(KernelThreads.executorCores(new SparkConf(false).set("spark.master", "local[4,2]"))).isEqualTo(4);
        assertThat(KernelThreads.executorCores(new SparkConf(false).set("spark.master", "local-cluster[2,3,1024]"))).isEqualTo(3);
        assertThat(KernelThreads.executorCores(new SparkConf(false).set("spark.master", "spark://h:7077"))).isEqualTo(machine);
        assertThat(KernelThreads.executorCores(new SparkConf(false).set("spark.master", "spark://h:7077")
                .set("spark.executor.cores", "6"))).isEqualTo(6);
    }

    @Test
    void oneThreadPerTaskIsAPoolOfOne() {
        assertThat(KernelThreads.poolSize(1)).isEqualTo(1);
        assertThatThrownBy(() -> KernelThreads.poolSize(0)).hasMessageContaining("threadsPerTask must be >= 1");
    }
}
