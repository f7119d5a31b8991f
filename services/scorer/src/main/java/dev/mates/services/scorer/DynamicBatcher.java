package dev.mates.services.scorer;

import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Dynamic batching for the online Score RPC, as serving systems do it: requests that arrive while the model is
 * busy, or within {@code maxWaitNanos} of the first waiting one, are scored together in one model batch of up
 * to {@code maxBatch} documents (a request larger than that is scored alone). Requests for different models are
 * batched per model. One dispatcher thread runs the model, so a CPU-bound model is never oversubscribed.
 *
 * <p>The wait is bounded: at most {@code maxQueuedDocs} documents wait at a time, and a request beyond that fails
 * at once with {@link Overloaded} (RESOURCE_EXHAUSTED for the caller, who can back off or go to another replica).
 * A request whose future was cancelled (the caller's deadline passed or it went away) is dropped before it is
 * scored.
 */
final class DynamicBatcher implements AutoCloseable {
    record Result(double[] scores, int batchSize) {}

    /** Too many documents are waiting. */
    static final class Overloaded extends RuntimeException {
        Overloaded(String message) {
            super(message);
        }
    }

    private record Pending(String modelKey, InfluenceModel model, List<Document> docs, CompletableFuture<Result> done) {}

    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final int maxBatch;
    private final long maxWaitNanos;
    private final int maxQueuedDocs;
    private final java.util.concurrent.atomic.AtomicInteger queuedDocs = new java.util.concurrent.atomic.AtomicInteger();
    private final IntConsumer batchObserver;
    private final Thread thread;
    private volatile boolean running = true;

    DynamicBatcher(int maxBatch, long maxWaitNanos, int maxQueuedDocs, IntConsumer batchObserver) {
        this.maxBatch = Math.max(1, maxBatch);
        this.maxWaitNanos = Math.max(0, maxWaitNanos);
        this.maxQueuedDocs = Math.max(1, maxQueuedDocs);
        this.batchObserver = batchObserver;
        this.thread = new Thread(this::loop, "mates-score-batcher");
        thread.setDaemon(true);
        thread.start();
    }

    CompletableFuture<Result> submit(String modelKey, InfluenceModel model, List<Document> docs) {
        CompletableFuture<Result> f = new CompletableFuture<>();
        if (!running) {
            f.completeExceptionally(new IllegalStateException("scorer is shutting down"));
            return f;
        }
        int n = docs.size();
        int now = queuedDocs.addAndGet(n);
        if (now > maxQueuedDocs && now > n) { // one request alone is always admitted (the request limit bounds it)
            queuedDocs.addAndGet(-n);
            f.completeExceptionally(new Overloaded((now - n) + " documents are waiting to be scored, the "
                    + "limit is mates.scorer.max-queued-documents=" + maxQueuedDocs + "; retry with backoff"));
            return f;
        }
        queue.add(new Pending(modelKey, model, docs, f));
        if (!running) drain(); // closed meanwhile: nobody would take it
        return f;
    }

    /** Documents waiting now (for tests and a gauge). */
    int queuedDocuments() {
        return queuedDocs.get();
    }

    private Pending take(Pending p) {
        if (p != null) queuedDocs.addAndGet(-p.docs.size());
        return p;
    }

    private void loop() {
        while (running) {
            Pending first;
            try {
                first = take(queue.poll(200, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                return;
            }
            if (first == null) continue;
            List<Pending> batch = new ArrayList<>(List.of(first));
            int docs = first.docs.size();
            long deadline = System.nanoTime() + maxWaitNanos;
            while (docs < maxBatch) {
                Pending next = queue.peek();
                if (next != null && docs + next.docs.size() > maxBatch) break;
                long left = deadline - System.nanoTime();
                try {
                    next = take(left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll());
                } catch (InterruptedException e) {
                    for (Pending p : batch) p.done.completeExceptionally(new IllegalStateException("scorer is shutting down"));
                    return;
                }
                if (next == null) break;
                batch.add(next);
                docs += next.docs.size();
            }
            run(batch);
        }
    }

    private void run(List<Pending> batch) {
        Map<String, List<Pending>> byModel = new LinkedHashMap<>();
        batch.removeIf(p -> p.done.isDone()); // cancelled while waiting: its caller is gone
        for (Pending p : batch) byModel.computeIfAbsent(p.modelKey, k -> new ArrayList<>()).add(p);
        for (List<Pending> group : byModel.values()) {
            List<Document> all = new ArrayList<>();
            for (Pending p : group) all.addAll(p.docs);
            try {
                double[] s = group.get(0).model.predict(all);
                batchObserver.accept(all.size());
                int off = 0;
                for (Pending p : group) {
                    double[] mine = java.util.Arrays.copyOfRange(s, off, off + p.docs.size());
                    off += p.docs.size();
                    p.done.complete(new Result(mine, all.size()));
                }
            } catch (RuntimeException | Error e) {
                // An Error too (e.g. a native library that fails to link): else the dispatcher thread would die and
                // this call and every later one would wait forever.
                for (Pending p : group) p.done.completeExceptionally(e);
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        drain();
    }

    private void drain() {
        Pending p;
        while ((p = take(queue.poll())) != null) p.done.completeExceptionally(new IllegalStateException("scorer is shutting down"));
    }
}
