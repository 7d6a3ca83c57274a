package dev.attn4j.spark;

import org.apache.spark.sql.SparkSession;

/** The tests' one SparkSession: local[2], no web UI, everything on loopback. Shared by the test classes of this JVM. */
final class LocalSpark {
    private LocalSpark() {
    }

    static synchronized SparkSession session() {
        return SparkSession.builder()
                .master("local[2]")
                .appName("attn4j-spark-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }
}
