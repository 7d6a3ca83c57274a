package dev.attn4j.serve;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Dynamic batching: requests (each a list of inputs with a token count) queue up; one worker
 * thread takes the oldest, then keeps adding queued requests while the batch stays within
 * {@code maxBatchTokens}, waiting at most {@code maxWaitNanos} after the oldest arrived for more
 * to come, and runs all their inputs as one call of {@code runner}, whose outputs (one per input,
 * in order) are split back to the requests. A batch always takes at least one request, however
 * many tokens it has. While the worker runs a batch, new requests queue, so under load batches
 * fill without waiting.
 *
 * <p>The queue holds at most {@code maxQueue} requests: beyond that {@link #submit} throws
 * {@link QueueFullException}. {@link #close} stops accepting and returns once every queued request
 * has run.
 *
 * @param <I> an input (e.g. a tokenized text)
 * @param <O> its output (e.g. an embedding)
 */
final class Batcher<I, O> implements AutoCloseable {
    /** Thrown by {@link #submit} when the queue is full. */
    static final class QueueFullException extends RuntimeException {
        QueueFullException(String message) {
            super(message, null, false, false);
        }
    }

    /** Thrown by {@link #submit} after {@link #close}. */
    static final class ClosedException extends RuntimeException {
        ClosedException(String message) {
            super(message, null, false, false);
        }
    }

    /** What happened in one batch, for metrics. */
    interface Listener {
        void batchRan(int requests, int inputs, int tokens, long nanos);
    }

    private record Job<I, O>(List<I> inputs, int tokens, long arrived, CompletableFuture<List<O>> result) {
    }

    private final String name;
    private final Function<List<I>, List<O>> runner;
    private final int maxBatchTokens;
    private final long maxWaitNanos;
    private final int maxQueue;
    private final Listener listener;
    private final ArrayDeque<Job<I, O>> queue = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final Thread worker;
    private boolean closed;

    Batcher(String name, Function<List<I>, List<O>> runner, int maxBatchTokens, long maxWaitNanos, int maxQueue, Listener listener) {
        if (maxBatchTokens < 1) throw new IllegalArgumentException("max batch tokens must be >= 1, got " + maxBatchTokens);
        if (maxQueue < 1) throw new IllegalArgumentException("max queue must be >= 1, got " + maxQueue);
        this.name = name;
        this.runner = runner;
        this.maxBatchTokens = maxBatchTokens;
        this.maxWaitNanos = Math.max(0, maxWaitNanos);
        this.maxQueue = maxQueue;
        this.listener = listener;
        this.worker = Thread.ofPlatform().name("attn4j-batcher-" + name).daemon(true).start(this::loop);
    }

    /**
     * Queues one request's inputs ({@code tokens} in all); the future completes with their
     * outputs in order, or exceptionally with what the runner threw.
     */
    CompletableFuture<List<O>> submit(List<I> inputs, int tokens) {
        Job<I, O> job = new Job<>(List.copyOf(inputs), tokens, System.nanoTime(), new CompletableFuture<>());
        lock.lock();
        try {
            if (closed) throw new ClosedException("the server is shutting down");
            if (queue.size() >= maxQueue) {
                throw new QueueFullException(name + ": " + queue.size() + " requests are queued (--max-queue " + maxQueue + ")");
            }
            queue.addLast(job);
            arrived.signal();
        } finally {
            lock.unlock();
        }
        return job.result();
    }

    /** Takes a request out of the queue if it has not started (its caller gave up waiting); true if it was removed. */
    boolean cancel(CompletableFuture<List<O>> result) {
        lock.lock();
        try {
            return queue.removeIf(j -> j.result() == result);
        } finally {
            lock.unlock();
        }
    }

    /** Requests waiting in the queue now. */
    int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (true) {
            List<Job<I, O>> batch = next();
            if (batch == null) return;
            run(batch);
        }
    }

    /** The next batch, or null once closed and drained. */
    private List<Job<I, O>> next() {
        lock.lock();
        try {
            while (queue.isEmpty()) {
                if (closed) return null;
                arrived.awaitUninterruptibly();
            }
            List<Job<I, O>> batch = new ArrayList<>();
            Job<I, O> first = queue.pollFirst();
            batch.add(first);
            long tokens = first.tokens();
            long deadline = first.arrived() + maxWaitNanos;
            while (true) {
                Job<I, O> head = queue.peekFirst();
                if (head != null) {
                    if (tokens + head.tokens() > maxBatchTokens) break;
                    batch.add(queue.pollFirst());
                    tokens += head.tokens();
                    continue;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed) break;
                try {
                    arrived.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void run(List<Job<I, O>> batch) {
        List<I> all = new ArrayList<>();
        int tokens = 0;
        for (Job<I, O> j : batch) {
            all.addAll(j.inputs());
            tokens += j.tokens();
        }
        long start = System.nanoTime();
        List<O> out;
        try {
            out = runner.apply(all);
            if (out.size() != all.size()) throw new IllegalStateException(name + ": " + out.size() + " outputs for " + all.size() + " inputs");
        } catch (RuntimeException | Error e) {
            for (Job<I, O> j : batch) j.result().completeExceptionally(e);
            return;
        }
        if (listener != null) listener.batchRan(batch.size(), all.size(), tokens, System.nanoTime() - start);
        int at = 0;
        for (Job<I, O> j : batch) {
            int n = j.inputs().size();
            j.result().complete(List.copyOf(out.subList(at, at + n)));
            at += n;
        }
    }

    /** Stops accepting; returns when every queued request has run (or {@code timeoutMillis} passed). */
    void close(long timeoutMillis) {
        lock.lock();
        try {
            closed = true;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            worker.join(TimeUnit.MILLISECONDS.toMillis(Math.max(1, timeoutMillis)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(60_000);
    }
}
