package dev.mates.services.scorer;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.adapters.redis.ShardTask;
import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.score.BatchedScorer;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.Retry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Scorer workers of the bulk path: each claims a shard from the Redis Stream (its consumer group; shards of dead
 * workers are taken over by XAUTOCLAIM), reads the shard's documents and the stage's model from the object store,
 * writes the shard's scores, and only then acknowledges. A shard that keeps failing ends in the dead-letter
 * stream. A stream entry is a {@link ShardTask}, written by the trainer.
 *
 * <p>Leases: while a worker works on a shard it renews its claim every third of the claim-idle time, so only a dead
 * or hung worker loses a shard, however long scoring takes. A store outage is not the shard's fault: the worker
 * keeps the claim and tries again (each store call already retries within the outage budget) instead of failing
 * the delivery. On shutdown the workers finish their shards within {@code mates.scorer.shutdown-grace} and give
 * back the ones they cannot finish, so another worker takes them at once.
 */
@ApplicationScoped
public class ShardWorkers {
    @Inject
    RedisShardQueue queue;
    @Inject
    ObjectStore store;
    @Inject
    ScorerModels models;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "mates.scorer.workers", defaultValue = "1")
    int workers;
    @ConfigProperty(name = "mates.scorer.claim-block", defaultValue = "2s")
    Duration block;
    @ConfigProperty(name = "mates.scorer.consumer", defaultValue = "")
    Optional<String> consumerName;
    @ConfigProperty(name = "mates.scorer.max-batch", defaultValue = "64")
    int batch;
    @ConfigProperty(name = "mates.scorer.shutdown-grace", defaultValue = "20s")
    Duration shutdownGrace;

    private final List<Thread> threads = new ArrayList<>();
    /** How long one read of the queue blocks: {@link #block}, at most the claim-idle time. */
    private long readMillis;
    private final AtomicLong completedHere = new AtomicLong();
    private volatile boolean running;
    /** Renews the claims in progress; its own queue view does not retry, so one outage cannot stall the others. */
    private ScheduledExecutorService heartbeats;
    private RedisShardQueue renewals;
    private Counter docs;
    private Counter shards;
    private Counter duplicates;
    private Counter failures;
    private Counter outages;
    private io.micrometer.core.instrument.Timer shardTime;

    void start(@Observes StartupEvent e) {
        docs = registry.counter("mates.scorer.shard.documents");
        shards = registry.counter("mates.scorer.shards.completed");
        duplicates = registry.counter("mates.scorer.shards.duplicate");
        failures = registry.counter("mates.scorer.shards.failed");
        outages = registry.counter("mates.scorer.shards.store-waits");
        // From claim to completion: compare its max with mates.queue.claim-idle (a longer shard keeps its claim by renewals).
        shardTime = io.micrometer.core.instrument.Timer.builder("mates.scorer.shard.duration").register(registry);
        registry.gauge("mates.queue.pending", queue, q -> safe(q::pending));
        registry.gauge("mates.queue.lag", queue, q -> safe(q::lag));
        registry.gauge("mates.queue.length", queue, q -> safe(q::length));
        running = true;
        renewals = queue.withRetry(Retry.none());
        heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mates-shard-lease");
            t.setDaemon(true);
            return t;
        });
        // A worker blocked in its read does not look for the shards of dead workers: reads last at most the claim-idle
        // time, so a dead worker's shard is taken over within about twice that time even when no new shard comes.
        readMillis = Math.max(1, Math.min(block.toMillis(), queue.claimIdleMillis()));
        if (block.toMillis() > readMillis) {
            Log.warnf("mates.scorer.claim-block (%s) is longer than mates.queue.claim-idle (%d ms): reads are cut to %d ms,"
                    + " else a dead worker's shard would wait for the end of a read", block, queue.claimIdleMillis(), readMillis);
        }
        String base = consumerName.filter(s -> !s.isBlank())
                .orElse(System.getenv().getOrDefault("HOSTNAME", "scorer") + "-" + ManagementFactory.getRuntimeMXBean().getName());
        for (int i = 0; i < workers; i++) {
            String consumer = base + "-" + i;
            Thread t = new Thread(() -> loop(consumer), "mates-shard-worker-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        if (workers > 0) Log.infof("%d shard worker(s) consuming %s (group %s) as %s-*", workers, queue.stream(), queue.group(), base);
    }

    void stop(@Observes ShutdownEvent e) {
        running = false; // each worker finishes its shard, then leaves its loop
        long deadline = System.nanoTime() + shutdownGrace.toNanos();
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        threads.forEach(Thread::interrupt); // past the grace: their shards are given back (process)
        if (heartbeats != null) heartbeats.shutdownNow();
    }

    public long completedHere() {
        return completedHere.get();
    }

    private void loop(String consumer) {
        long backoff = 500;
        while (running) {
            Optional<RedisShardQueue.Claim> claim;
            try {
                queue.ensureGroup();
                claim = queue.claim(consumer, readMillis);
                backoff = 500;
            } catch (RuntimeException ex) {
                if (!running) return;
                Log.warnf("queue unavailable (%s); retrying in %d ms", ex.getMessage(), backoff);
                sleep(backoff);
                backoff = Math.min(10_000, backoff * 2);
                continue;
            }
            claim.ifPresent(c -> process(consumer, c));
        }
    }

    private void process(String consumer, RedisShardQueue.Claim c) {
        AtomicBoolean lost = new AtomicBoolean();
        long every = Math.max(100, queue.claimIdleMillis() / 3);
        ScheduledFuture<?> lease = heartbeats.scheduleAtFixedRate(() -> {
            try {
                if (!lost.get() && !renewals.renew(c, consumer)) lost.set(true);
            } catch (RuntimeException ex) {
                // Redis away: the claim is renewed on the next beat after it returns.
            }
        }, every, every, TimeUnit.MILLISECONDS);
        try {
            long backoff = 500;
            long t0 = System.nanoTime();
            while (true) {
                try {
                    score(c);
                    shardTime.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
                    return;
                } catch (RuntimeException ex) {
                    if (!Retry.STORE_UNAVAILABLE.test(ex)) throw ex;
                    if (!running || lost.get() || Thread.currentThread().isInterrupted()) {
                        giveBack(consumer, c);
                        return;
                    }
                    outages.increment();
                    Log.warnf("%s: shard %s waits for the stores (%s); keeping the claim, retrying in %d ms", consumer,
                            c.task(), ex.getMessage(), backoff);
                    sleep(backoff);
                    backoff = Math.min(10_000, backoff * 2);
                }
            }
        } catch (RuntimeException | Error ex) {
            // An Error too (e.g. a model's native library that fails to link): else the worker thread dies silently
            // and, with one worker, the service stops consuming while still reporting ready.
            if (!running) { // interrupted by the shutdown past its grace: not the shard's fault
                giveBack(consumer, c);
                return;
            }
            failures.increment();
            Log.warnf("%s: shard %s failed (delivery %d): %s", consumer, c.task(), c.deliveries(), ex.getMessage());
            try {
                queue.fail(c, ex.getClass().getSimpleName() + ": " + ex.getMessage());
            } catch (RuntimeException ignored) {
                // the shard stays pending and is reclaimed after the idle time
            }
        } finally {
            lease.cancel(false);
        }
    }

    private void score(RedisShardQueue.Claim c) {
        ShardTask task = ShardTask.fromFields(c.fields());
        List<Document> shard = RunArtifacts.documentsFromJsonl(RunArtifacts.require(store, task.docsKey()), task.docsKey());
        InfluenceModel model = models.get(task.modelKey(), task.backbone());
        double[] scores = new BatchedScorer(model, batch).score(shard); // no progress: a worker's shards are metrics
        store.put(task.outKey(), RunArtifacts.scoresToJsonl(shard, scores));
        if (queue.complete(c)) {
            completedHere.incrementAndGet();
            shards.increment();
            docs.increment(shard.size());
        } else {
            duplicates.increment(); // another worker finished the same shard first: counted once, by it
        }
    }

    /** Shutting down (or the claim was lost) mid-outage: hand the shard to another worker without counting a failure. */
    private void giveBack(String consumer, RedisShardQueue.Claim c) {
        try {
            renewals.release(c, consumer);
        } catch (RuntimeException ex) {
            Log.warnf("%s: could not give back shard %s (%s); it is taken over once idle", consumer, c.task(), ex.getMessage());
        }
    }

    private static double safe(java.util.function.LongSupplier s) {
        try {
            return s.getAsLong();
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
