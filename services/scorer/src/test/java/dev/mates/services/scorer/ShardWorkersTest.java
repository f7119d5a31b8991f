package dev.mates.services.scorer;

import static dev.mates.services.scorer.ScorerFixtures.*;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.*;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.adapters.redis.ShardTask;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.proto.v1.QueueStatsRequest;
import dev.mates.proto.v1.QueueStatsResponse;
import dev.mates.proto.v1.ScorerGrpc;
import dev.mates.services.testing.RealStoresResource;
import dev.mates.services.testing.ServiceTestSupport;
import io.grpc.ManagedChannel;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamPendingEntry;

/**
 * The bulk path: shards enqueued on the real Redis Stream are scored by the service's own worker, which writes the
 * scores to the real S3 server and acknowledges; dead workers' shards are taken over, poison shards dead-lettered.
 */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class ShardWorkersTest {
    /** Long enough for several claim-idle periods and retries on a loaded machine; only a bound against hanging. */
    static final Duration WAIT = Duration.ofSeconds(60);

    S3ObjectStore s3;
    JedisPooled jedis;
    RedisShardQueue queue;

    @BeforeEach
    void connect() {
        s3 = ServiceTestSupport.objectStore();
        jedis = jedis();
        queue = queue(jedis);
        queue.ensureGroup();
    }

    @AfterEach
    void disconnect() {
        s3.close();
        jedis.close();
    }

    /** Writes the shard's documents and returns its queue entry, as the trainer writes them. */
    private Map<String, String> shard(String run, int k, List<Document> docs) {
        s3.put(StorageLayout.shardKey(run, "mates", 0, k), RunArtifacts.documentsToJsonl(docs));
        return entry(run, k);
    }

    private static Map<String, String> entry(String run, int k) {
        return new ShardTask(run + "/shard-" + k, doneSet(run), StorageLayout.shardKey(run, "mates", 0, k), modelKey(run),
                "ngram", scoresKey(run, k)).toFields();
    }

    /** Where the trainer asks for a shard's scores (runs/{run}/{arm}/stages/{s}/scores/{attempt}/shard-{k}.jsonl). */
    private static String scoresKey(String run, int k) {
        return StorageLayout.scoresKey(run, "mates", 0, "a1", k);
    }

    private static String doneSet(String run) {
        return "mates:test:done:" + run;
    }

    private void assertScores(String run, int k, List<Document> docs, InfluenceModel model) {
        String out = scoresKey(run, k);
        byte[] bytes = s3.get(out).orElseThrow(() -> new AssertionError(out + " was not written"));
        assertArrayEquals(model.predict(docs), RunArtifacts.scoresFromJsonl(bytes, docs, out), 0.0, out);
    }

    static void await(String what, Callable<Boolean> condition) {
        Awaitility.await(what).atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(condition);
    }

    private Optional<StreamPendingEntry> pendingEntry(String id) {
        StreamEntryID sid = new StreamEntryID(id);
        List<StreamPendingEntry> p = jedis.xpending(queue.stream(), queue.group(), XPendingParams.xPendingParams(sid, sid, 1));
        return p.stream().findFirst();
    }

    @Test
    void enqueuedShardsAreScoredWrittenAndCountedOnce() {
        String run = newRun("queue");
        InfluenceModel model = fitAndStore(s3, modelKey(run), 11);
        SplittableRandom r = new SplittableRandom(5);
        int shards = 4;
        List<List<Document>> docs = new java.util.ArrayList<>();
        for (int k = 0; k < shards; k++) {
            docs.add(documents(r, 30 + 17 * k, "s" + k + "-")); // the last shard spans more than one model batch
            queue.enqueue(shard(run, k, docs.get(k)));
        }
        await("4 shards done", () -> queue.doneCount(doneSet(run)) == shards);
        for (int k = 0; k < shards; k++) assertScores(run, k, docs.get(k), model);
        await("nothing pending", () -> queue.pending() == 0);
        assertEquals(shards, queue.doneCount(doneSet(run)));
        assertTrue(queue.deadLetters().stream().noneMatch(d -> d.get("task").startsWith(run + "/")), "nothing dead-lettered");
    }

    @Test
    void aShardOfAWorkerKilledMidShardIsTakenOverAndCompletedOnce() {
        String run = newRun("takeover");
        InfluenceModel model = fitAndStore(s3, modelKey(run), 13);
        List<Document> docs = documents(new SplittableRandom(6), 40, "t");
        Map<String, String> fields = shard(run, 0, docs);
        await("the queue is idle", () -> queue.pending() == 0 && queue.lag() == 0);

        // A worker that reads the shard and dies: XADD and XREADGROUP in one transaction, so the service's worker,
        // blocked on the stream, cannot read the entry first; this consumer never completes it.
        String id;
        try (Jedis j = new Jedis(URI.create(RealStoresResource.redis().uri()))) {
            Transaction t = j.multi();
            t.xadd(queue.stream(), XAddParams.xAddParams(), fields);
            t.xreadGroup(queue.group(), "dead-worker", XReadGroupParams.xReadGroupParams().count(1),
                    Map.of(queue.stream(), StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
            List<Object> res = t.exec();
            id = res.get(0).toString();
        }
        StreamPendingEntry held = pendingEntry(id).orElseThrow(() -> new AssertionError("the dead worker holds no entry"));
        assertEquals("dead-worker", held.getConsumerName());
        assertEquals(1, held.getDeliveredTimes());

        await("the shard taken over and done", () -> queue.isDone(doneSet(run), run + "/shard-0"));
        assertScores(run, 0, docs, model);
        await("the entry acknowledged", () -> pendingEntry(id).isEmpty());
        assertEquals(1, queue.doneCount(doneSet(run)));
        // The dead worker comes back and completes late: not counted a second time.
        assertFalse(queue.complete(new RedisShardQueue.Claim(id, fields, 1)));
        assertEquals(1, queue.doneCount(doneSet(run)));
        assertTrue(queue.deadLetters().stream().noneMatch(d -> d.get("task").startsWith(run + "/")), "nothing dead-lettered");
    }

    @jakarta.inject.Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    /**
     * A worker slower than the claim-idle time keeps its shard: the S3 server is held (SIGSTOP) while the service's
     * worker reads the shard, for four claim-idle periods, and a second worker asks for shards all that time. It never
     * gets this one (the first worker's renewals keep the entry busy), the shard is scored once, and nothing is
     * dead-lettered.
     */
    @Test
    void aWorkerSlowerThanTheClaimIdleTimeKeepsItsShard() throws Exception {
        String run = newRun("slow");
        InfluenceModel model = fitAndStore(s3, modelKey(run), 17);
        List<Document> docs = documents(new SplittableRandom(8), 30, "w");
        Map<String, String> fields = shard(run, 0, docs);
        await("the queue is idle", () -> queue.pending() == 0 && queue.lag() == 0);
        double duplicatesBefore = registry.counter("mates.scorer.shards.duplicate").count();
        long s3 = RealStoresResource.s3().pid();
        signal("STOP", s3);
        String id;
        List<String> rivalGot = new java.util.ArrayList<>();
        try {
            id = queue.enqueue(fields);
            await("the service's worker holds the shard", () -> pendingEntry(id).isPresent());
            String holder = pendingEntry(id).orElseThrow().getConsumerName();
            long until = System.nanoTime() + 4 * queue.claimIdleMillis() * 1_000_000L; // the slowness: 4 claim-idle periods
            while (System.nanoTime() < until) {
                queue.claim("rival-worker", 100).ifPresent(c -> {
                    rivalGot.add(c.id());
                    queue.release(c, "rival-worker");
                });
            }
            assertEquals(List.of(), rivalGot, "the second worker took the busy shard");
            assertEquals(holder, pendingEntry(id).orElseThrow().getConsumerName(), "the slow worker still holds the shard");
            assertEquals(1, pendingEntry(id).orElseThrow().getDeliveredTimes(), "renewals count no delivery");
        } finally {
            signal("CONT", s3);
        }
        await("the shard done", () -> queue.isDone(doneSet(run), run + "/shard-0"));
        assertScores(run, 0, docs, model);
        assertEquals(1, queue.doneCount(doneSet(run)));
        assertEquals(duplicatesBefore, registry.counter("mates.scorer.shards.duplicate").count(), "scored twice");
        assertTrue(queue.deadLetters().stream().noneMatch(d -> d.get("task").startsWith(run + "/")), "nothing dead-lettered");
        double maxMillis = registry.timer("mates.scorer.shard.duration").max(TimeUnit.MILLISECONDS);
        assertTrue(maxMillis > queue.claimIdleMillis(), "the shard took " + maxMillis + " ms, longer than claim-idle");
    }

    static void signal(String signal, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        assertEquals(0, p.waitFor(), "kill -" + signal + " " + pid + ": " + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void poisonShardsEndInTheDeadLetterStreamWithAReason() {
        String run = newRun("poison");
        fitAndStore(s3, modelKey(run), 17);
        int maxDeliveries = org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getOptionalValue("mates.queue.max-deliveries", Integer.class).orElse(3);
        // Shard 0: its documents object was never written. Shard 1: its documents object is not JSONL.
        String missing = queue.enqueue(entry(run, 0));
        s3.put(StorageLayout.shardKey(run, "mates", 0, 1), "{\"id\": \"a\", \"text\": ".getBytes(StandardCharsets.UTF_8));
        String corrupt = queue.enqueue(entry(run, 1));
        // Shard 2: its model was never written.
        Map<String, String> noModel = shard(run, 2, documents(new SplittableRandom(1), 5, "n"));
        noModel.put("model", modelKey(run) + ".missing"); // a field of ShardTask.toFields()
        String modelMissing = queue.enqueue(noModel);

        await("3 dead letters", () -> deadLetters(run).size() >= 3);
        Map<String, Map<String, String>> byId = new LinkedHashMap<>();
        for (Map<String, String> d : deadLetters(run)) assertNull(byId.put(d.get("original_id"), d), "dead-lettered twice: " + d);
        assertEquals(java.util.Set.of(missing, corrupt, modelMissing), byId.keySet());

        assertTrue(byId.get(missing).get("reason").contains("not found: " + StorageLayout.shardKey(run, "mates", 0, 0)), byId.get(missing).toString());
        assertTrue(byId.get(corrupt).get("reason").contains("not valid JSON"), byId.get(corrupt).toString());
        assertTrue(byId.get(modelMissing).get("reason").contains("not found: " + modelKey(run) + ".missing"), byId.get(modelMissing).toString());
        for (Map<String, String> d : byId.values()) {
            assertEquals(String.valueOf(maxDeliveries), d.get("deliveries"), "delivered max-deliveries times: " + d);
            assertFalse(d.get("last_consumer").isBlank(), d.toString());
        }
        // Not retried any more: no longer pending, never done, no scores written.
        for (String id : byId.keySet()) assertTrue(pendingEntry(id).isEmpty(), id + " is still pending");
        assertEquals(0, queue.doneCount(doneSet(run)));
        for (int k = 0; k < 3; k++) assertFalse(s3.exists(scoresKey(run, k)));
        ServiceTestSupport.management().get("/q/metrics").then().statusCode(200).body(containsString("mates_scorer_shards_failed_total"));
    }

    private List<Map<String, String>> deadLetters(String run) {
        return queue.deadLetters().stream().filter(d -> d.getOrDefault("task", "").startsWith(run + "/")).toList();
    }

    @Test
    void queueStatsReportTheStreamAsRedisSeesIt() throws InterruptedException {
        ManagedChannel ch = ServiceTestSupport.channel();
        try {
            ScorerGrpc.ScorerBlockingStub scorer = ScorerGrpc.newBlockingStub(ch);
            await("the queue is idle", () -> queue.pending() == 0 && queue.lag() == 0);
            QueueStatsResponse before = scorer.withDeadlineAfter(10, TimeUnit.SECONDS).queueStats(QueueStatsRequest.getDefaultInstance());

            String run = newRun("stats");
            fitAndStore(s3, modelKey(run), 19);
            SplittableRandom r = new SplittableRandom(8);
            for (int k = 0; k < 3; k++) queue.enqueue(shard(run, k, documents(r, 10, "q" + k + "-")));
            await("3 shards done", () -> queue.doneCount(doneSet(run)) == 3);
            await("the queue is idle", () -> queue.pending() == 0 && queue.lag() == 0);

            QueueStatsResponse after = scorer.withDeadlineAfter(10, TimeUnit.SECONDS).queueStats(QueueStatsRequest.getDefaultInstance());
            assertEquals(queue.stream(), after.getStream());
            assertEquals(queue.group(), after.getGroup());
            assertEquals(queue.length(), after.getLength());
            assertEquals(before.getLength(), after.getLength(), "completed entries are deleted from the stream");
            assertEquals(0, after.getPending());
            assertEquals(0, after.getLag());
            assertEquals(queue.deadLetters().size(), after.getDeadLetters());
            assertEquals(before.getCompletedHere() + 3, after.getCompletedHere(), "this service's worker completed the 3 shards");
            ServiceTestSupport.management().get("/q/metrics").then().statusCode(200)
                    .body(containsString("mates_scorer_shards_completed_total " + (double) after.getCompletedHere()))
                    .body(containsString("mates_queue_pending 0.0"));
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
