package dev.mates.services.trainer;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.adapters.redis.ShardTask;
import dev.mates.engine.data.Document;
import dev.mates.engine.pipeline.Pipeline;
import dev.mates.engine.pipeline.Stage;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.util.Listener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Scores a stage's candidate pool through the scoring queue: writes the pool as shards to the object store, adds
 * one stream entry per shard, waits until every shard's task is in the stage's done-set (each counted once,
 * however many workers raced on it), then reads the per-shard scores back in pool order. A shard that reaches
 * the dead-letter stream fails the stage with the shard and the reason named; nothing waits forever.
 *
 * <p>Lost state: every {@code lostCheckMillis} it looks for shards that are neither done, dead-lettered nor still in
 * the stream (Redis restarted without persistence, the stream was flushed) and enqueues them again. Once the
 * scores are read, the stage's done set is deleted (it would expire anyway).
 */
final class QueueScoring {
    private final ObjectStore store;
    private final RedisShardQueue queue;
    private final Stage stage;
    private final String modelKey;
    private final String backbone;
    private final int shardSize;
    private final long timeoutMillis;
    private final long lostCheckMillis;
    private final Listener listener;
    private final String doneSet;

    QueueScoring(ObjectStore store, RedisShardQueue queue, String keyPrefix, Stage stage, String modelKey,
                 String backbone, int shardSize, long timeoutMillis, long lostCheckMillis, Listener listener) {
        this.store = store;
        this.queue = queue;
        this.stage = stage;
        this.modelKey = modelKey;
        this.backbone = backbone;
        this.shardSize = Math.max(1, shardSize);
        this.timeoutMillis = timeoutMillis;
        this.lostCheckMillis = lostCheckMillis;
        this.listener = listener;
        // One attempt per call: a stage re-scored after a resume never mixes with entries or results of the
        // attempt that the dead trainer left behind (those may still be pending, with the old model).
        this.attempt = UUID.randomUUID().toString().substring(0, 8);
        this.doneSet = keyPrefix + StorageLayout.doneSetKey(stage.run(), stage.arm(), stage.stage(), attempt);
    }

    private final String attempt;

    private String outKey(int shard) {
        return StorageLayout.scoresKey(stage.run(), stage.arm(), stage.stage(), attempt, shard);
    }

    double[] score(List<Document> pool) {
        int shards = (pool.size() + shardSize - 1) / shardSize;
        List<List<Document>> parts = new ArrayList<>();
        String[] entries = new String[shards];
        queue.ensureGroup();
        for (int k = 0; k < shards; k++) {
            List<Document> part = pool.subList(k * shardSize, Math.min(pool.size(), (k + 1) * shardSize));
            parts.add(part);
            store.put(docsKey(k), RunArtifacts.documentsToJsonl(part));
            entries[k] = queue.enqueue(task(k).toFields());
        }
        long deadline = System.currentTimeMillis() + timeoutMillis;
        long nextLostCheck = System.currentTimeMillis() + lostCheckMillis;
        long lastDone = -1;
        while (true) {
            long done = queue.doneCount(doneSet);
            if (done != lastDone) {
                listener.progress("scoring", done, shards, "shards", pool.size() + " docs via the scoring queue");
                lastDone = done;
            }
            if (done >= shards) break;
            for (String t : queue.deadTasks(doneSet)) {
                if (queue.isDone(doneSet, t)) continue; // a late duplicate completed it after all
                Map<String, String> dead = queue.deadLetter(t).orElse(Map.of());
                throw new IllegalStateException("scoring shard " + t + " failed " + dead.getOrDefault("deliveries", "?")
                        + " times and was moved to the dead-letter stream " + queue.deadLetterStream() + ": "
                        + dead.getOrDefault("reason", "no reason recorded") + ". Fix the cause, then ResumeRun.");
            }
            if (System.currentTimeMillis() >= nextLostCheck) {
                requeueLost(entries);
                nextLostCheck = System.currentTimeMillis() + lostCheckMillis;
            }
            if (listener.cancelled()) throw new Pipeline.CancelledException(stage.run());
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("scoring stage " + stage.stage() + ": only " + done + " of " + shards
                        + " shards done after " + timeoutMillis / 1000 + " s; are scorer workers running (queue "
                        + queue.stream() + ", group " + queue.group() + ", pending " + queue.pending() + ")?");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Pipeline.CancelledException(stage.run());
            }
        }
        double[] out = new double[pool.size()];
        for (int k = 0; k < shards; k++) {
            String key = outKey(k);
            double[] s = RunArtifacts.scoresFromJsonl(RunArtifacts.require(store, key), parts.get(k), key);
            System.arraycopy(s, 0, out, k * shardSize, s.length);
        }
        try {
            queue.forget(doneSet);
        } catch (RuntimeException e) {
            listener.warn("could not delete the done set " + doneSet + " (it expires on its own): " + e.getMessage());
        }
        return out;
    }

    private String docsKey(int shard) {
        return StorageLayout.shardKey(stage.run(), stage.arm(), stage.stage(), shard);
    }

    private ShardTask task(int shard) {
        String task = StorageLayout.scoringTask(stage.run(), stage.arm(), stage.stage(), attempt, shard);
        return new ShardTask(task, doneSet, docsKey(shard), modelKey, backbone, outKey(shard));
    }

    /**
     * Enqueues again every shard whose entry is gone from the stream although its task is neither done nor
     * dead-lettered. The stream is read before the done set, and completion adds to the done set before it deletes
     * the entry (one script), so a shard completed in between is seen as done, not lost.
     */
    private void requeueLost(String[] entries) {
        Set<String> dead = queue.deadTasks(doneSet);
        int requeued = 0;
        for (int k = 0; k < entries.length; k++) {
            String t = task(k).task();
            if (queue.inStream(entries[k]) || queue.isDone(doneSet, t) || dead.contains(t)) continue;
            if (requeued == 0) queue.ensureGroup(); // a flushed Redis lost the consumer group too
            entries[k] = queue.enqueue(task(k).toFields());
            requeued++;
        }
        if (requeued > 0) {
            listener.warn(requeued + " scoring shard(s) of stage " + stage.stage() + " were neither done nor in the queue"
                    + " (Redis lost its data?); enqueued them again");
        }
    }
}
