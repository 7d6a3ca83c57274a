package dev.attn4j.serve;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatcherTest {
    @Test
    void queuedRequestsShareABatchWithinTheTokenLimitAndGetTheirOwnOutputs() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> batchSizes = new ArrayList<>();
        Batcher<Integer, Integer> b = new Batcher<>("t", in -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            synchronized (batchSizes) {
                batchSizes.add(in.size());
            }
            return in.stream().map(x -> x * 10).toList();
        }, 10, 0, 8, null);
        CompletableFuture<List<Integer>> first = b.submit(List.of(1), 1);
        Thread.sleep(50);                                                    // the worker holds the first, blocked
        CompletableFuture<List<Integer>> a = b.submit(List.of(2, 3), 4);
        CompletableFuture<List<Integer>> c = b.submit(List.of(4), 4);
        CompletableFuture<List<Integer>> d = b.submit(List.of(5, 6), 4);       // 4 + 4 + 4 > 10: next batch
        release.countDown();
        assertThat(first.get(5, TimeUnit.SECONDS)).containsExactly(10);
        assertThat(a.get(5, TimeUnit.SECONDS)).containsExactly(20, 30);
        assertThat(c.get(5, TimeUnit.SECONDS)).containsExactly(40);
        assertThat(d.get(5, TimeUnit.SECONDS)).containsExactly(50, 60);
        assertThat(batchSizes).containsExactly(1, 3, 2);
        b.close();
    }

    @Test
    void aFullQueueRefusesAndCloseDrains() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Batcher<Integer, Integer> b = new Batcher<>("t", in -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return in;
        }, 1, 0, 2, null);
        CompletableFuture<List<Integer>> running = b.submit(List.of(1), 1);
        Thread.sleep(50);
        CompletableFuture<List<Integer>> q1 = b.submit(List.of(2), 1);
        CompletableFuture<List<Integer>> q2 = b.submit(List.of(3), 1);
        assertThatThrownBy(() -> b.submit(List.of(4), 1)).isInstanceOf(Batcher.QueueFullException.class).hasMessageContaining("--max-queue 2");
        assertThat(b.queued()).isEqualTo(2);
        assertThat(b.cancel(q2)).isTrue();
        Thread closer = Thread.ofPlatform().start(() -> b.close(10_000));
        Thread.sleep(50);
        assertThatThrownBy(() -> b.submit(List.of(5), 1)).isInstanceOf(Batcher.ClosedException.class);
        release.countDown();
        closer.join();
        assertThat(running.get()).containsExactly(1);
        assertThat(q1.get()).containsExactly(2);                              // queued before close: still run
        assertThat(q2).isNotDone();                                          // cancelled: never run
    }

    @Test
    void aFailingBatchFailsEachOfItsRequests() {
        Batcher<Integer, Integer> b = new Batcher<>("t", in -> {
            throw new IllegalArgumentException("bad input");
        }, 10, 0, 4, null);
        CompletableFuture<List<Integer>> f = b.submit(List.of(1), 1);
        assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalArgumentException.class);
        b.close();
    }
}
