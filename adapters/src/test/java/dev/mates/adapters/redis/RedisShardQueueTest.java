package dev.mates.adapters.redis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.adapters.redis.RedisShardQueue.Claim;
import dev.mates.engine.store.StoreUnavailableException;
import dev.mates.local.LocalRedis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.util.SafeEncoder;

class RedisShardQueueTest {
    static final long IDLE = 200;
    static LocalRedis redis;
    static JedisPooled jedis;

    @BeforeAll
    static void startRedis() {
        redis = LocalRedis.start(0, null);
        jedis = RedisStateStore.connect(redis.uri());
    }

    @AfterAll
    static void stopRedis() {
        if (jedis != null) jedis.close();
        if (redis != null) redis.stop();
    }

    /** A queue on fresh keys; its done set is {@code stream + ":done"}. */
    private static RedisShardQueue queue(int maxDeliveries) {
        String s = "q-" + UUID.randomUUID();
        return new RedisShardQueue(jedis, s, "scorers", s + ":dead", maxDeliveries, IDLE);
    }

    private static String doneSet(RedisShardQueue q) {
        return q.stream() + ":done";
    }

    private static String enqueue(RedisShardQueue q, String task) {
        return q.enqueue(Map.of(RedisShardQueue.TASK, task, RedisShardQueue.DONE_SET, doneSet(q), "shard", task));
    }

    /** Waits until Redis reports every unacknowledged entry of {@code q} idle long enough to be taken over. */
    private static void letClaimsGoStale(RedisShardQueue q) {
        await("every pending entry of " + q.stream() + " idle for " + IDLE + " ms").atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> jedis.xpending(q.stream(), q.group(), XPendingParams.xPendingParams("-", "+", 1_000)),
                        pending -> pending.stream().allMatch(e -> e.getIdleTime() >= IDLE));
    }

    /** Whether a client of this Redis is blocked in XREADGROUP, per CLIENT LIST ({@code flags=b cmd=xreadgroup}). */
    private static boolean aClientIsBlockedInXreadgroup() {
        String clients = SafeEncoder.encode((byte[]) jedis.sendCommand(Protocol.Command.CLIENT, "LIST"));
        return clients.lines().map(l -> List.of(l.split(" ")))
                .anyMatch(f -> f.contains("cmd=xreadgroup") && f.stream().anyMatch(x -> x.startsWith("flags=") && x.contains("b")));
    }

    @Test
    void enqueueClaimCompleteHappyPath() {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        List<String> ids = List.of(enqueue(q, "run/arm/s1/shard-0"), enqueue(q, "run/arm/s1/shard-1"),
                enqueue(q, "run/arm/s1/shard-2"));
        for (int i = 0; i < 3; i++) {
            Claim c = q.claim("w1", 0).orElseThrow();
            assertEquals(ids.get(i), c.id());
            assertEquals("run/arm/s1/shard-" + i, c.task());
            assertEquals("run/arm/s1/shard-" + i, c.fields().get("shard"));
            assertEquals(1, c.deliveries());
            assertTrue(q.complete(c));
            assertTrue(q.isDone(doneSet(q), c.task()));
        }
        assertEquals(Optional.empty(), q.claim("w1", 0));
        assertEquals(Optional.empty(), q.claim("w1", 50)); // blocking read that times out
        assertEquals(3, q.doneCount(doneSet(q)));
        assertEquals(0, q.pending());
        assertEquals(0, q.length(), "completed entries are deleted from the stream");
        assertEquals(0, q.lag());
        assertEquals(List.of(), q.deadLetters());
        long ttl = jedis.ttl(doneSet(q));
        assertTrue(ttl > 0 && ttl <= RedisShardQueue.DEFAULT_DONE_TTL.toSeconds(), "done set TTL " + ttl);
        q.forget(doneSet(q));
        assertEquals(0, q.doneCount(doneSet(q)));
    }

    @Test
    void aRenewedClaimIsKeptPastTheIdleTimeWithoutCountingADelivery() throws Exception {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        String id = enqueue(q, "long-shard");
        Claim c = q.claim("worker-a", 0).orElseThrow();
        long until = System.nanoTime() + 4 * IDLE * 1_000_000L;
        while (System.nanoTime() < until) {
            assertTrue(q.renew(c, "worker-a"));
            assertEquals(Optional.empty(), q.claim("worker-b", 0), "a renewed claim is not taken over");
            Thread.sleep(IDLE / 4);
        }
        var p = jedis.xpending(q.stream(), q.group(), XPendingParams.xPendingParams(new redis.clients.jedis.StreamEntryID(id),
                new redis.clients.jedis.StreamEntryID(id), 1));
        assertEquals(1, p.get(0).getDeliveredTimes(), "renewals count no delivery");
        assertEquals("worker-a", p.get(0).getConsumerName());
        // Without renewals the claim goes stale and is taken over; the old holder can no longer renew it.
        letClaimsGoStale(q);
        Claim b = q.claim("worker-b", 0).orElseThrow();
        assertEquals(2, b.deliveries());
        assertFalse(q.renew(c, "worker-a"));
        assertTrue(q.renew(b, "worker-b"));
        assertTrue(q.complete(b));
        assertFalse(q.renew(b, "worker-b"), "a completed entry is not pending");
    }

    @Test
    void aReleasedClaimIsTakenOverAtOnce() {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        enqueue(q, "handed-back");
        Claim a = q.claim("worker-a", 0).orElseThrow();
        assertEquals(Optional.empty(), q.claim("worker-b", 0));
        assertFalse(q.release(a, "worker-b"), "only the holder can give it back");
        assertTrue(q.release(a, "worker-a"));
        Claim b = q.claim("worker-b", 0).orElseThrow();
        assertEquals(a.id(), b.id());
        assertEquals(2, b.deliveries(), "the takeover is a delivery; the give-back is not");
        assertTrue(q.complete(b));
    }

    @Test
    void deadLetteredTasksAreInTheDoneSetsDeadSetAndTheStreamIsCleared() throws Exception {
        RedisShardQueue q = queue(1);
        q.ensureGroup();
        String id = enqueue(q, "bad");
        assertTrue(q.inStream(id));
        Claim c = q.claim("w", 0).orElseThrow();
        q.fail(c, "cannot parse shard");
        assertEquals(Set.of("bad"), q.deadTasks(doneSet(q)));
        assertEquals("cannot parse shard", q.deadLetter("bad").orElseThrow().get("reason"));
        assertEquals(Optional.empty(), q.deadLetter("never-dead"));
        assertFalse(q.inStream(id), "a dead-lettered entry leaves the stream");
        assertEquals(0, q.length());
        assertTrue(jedis.ttl(doneSet(q) + RedisShardQueue.DEAD_SUFFIX) > 0);
    }

    @Test
    void withRetryAnOperationRidesOutARedisRestart() throws Exception {
        LocalRedis own = LocalRedis.start(0, null);
        int port = own.port();
        try (JedisPooled j = RedisStateStore.connect(own.uri())) {
            RedisShardQueue plain = new RedisShardQueue(j, "s", "g", "s:dead", 3, IDLE);
            RedisShardQueue q = plain.withRetry(dev.mates.engine.store.Retry.of(Duration.ofMillis(50),
                    Duration.ofMillis(500), Duration.ofSeconds(30)));
            q.ensureGroup();
            own.stop();
            assertThrows(StoreUnavailableException.class, plain::length, "without retries the outage is an error");
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                Future<String> f = pool.submit(() -> q.enqueue(Map.of("task", "t", "done_set", "d")));
                Thread.sleep(1_000);
                assertFalse(f.isDone(), "still retrying while Redis is down");
                own = LocalRedis.start(port, null);
                assertTrue(f.get(30, TimeUnit.SECONDS).contains("-"));
                assertEquals(1, q.length());
            } finally {
                pool.shutdownNow();
            }
        } finally {
            own.stop();
        }
    }

    @Test
    void blockingClaimReceivesAnEntryEnqueuedWhileWaiting() throws Exception {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Optional<Claim>> f = pool.submit(() -> q.claim("w1", 10_000));
            await("the claim blocked in XREADGROUP").atMost(Duration.ofSeconds(5))
                    .until(RedisShardQueueTest::aClientIsBlockedInXreadgroup);
            enqueue(q, "late");
            assertEquals("late", f.get(20, TimeUnit.SECONDS).orElseThrow().task());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void entriesEnqueuedBeforeTheGroupExistsAreDelivered() {
        RedisShardQueue q = queue(3);
        String early = enqueue(q, "early");
        q.ensureGroup();
        q.ensureGroup(); // idempotent
        String late = enqueue(q, "late");
        assertEquals(early, q.claim("w1", 0).orElseThrow().id());
        assertEquals(late, q.claim("w1", 0).orElseThrow().id());
    }

    @Test
    void deadWorkersTaskIsTakenOverAndCountedOnce() throws Exception {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        enqueue(q, "t1");
        Claim byDeadWorker = q.claim("worker-a", 0).orElseThrow();
        // worker-a never completes; once the entry is idle, another consumer takes it over.
        letClaimsGoStale(q);
        Claim byB = q.claim("worker-b", 0).orElseThrow();
        assertEquals(byDeadWorker.id(), byB.id());
        assertEquals(2, byB.deliveries());
        assertTrue(q.complete(byB));
        assertEquals(1, q.doneCount(doneSet(q)));
        // worker-a was only slow and finishes late: not counted a second time.
        assertFalse(q.complete(byDeadWorker));
        assertEquals(1, q.doneCount(doneSet(q)));
        assertEquals(0, q.pending());
        letClaimsGoStale(q);
        assertEquals(Optional.empty(), q.claim("worker-c", 0));
    }

    @Test
    void racingCompletionsOfTheSameTasksCountEachTaskOnce() throws Exception {
        RedisShardQueue q = queue(5);
        q.ensureGroup();
        int n = 20;
        for (int i = 0; i < n; i++) enqueue(q, "race-" + i);
        List<Claim> a = new ArrayList<>();
        for (int i = 0; i < n; i++) a.add(q.claim("worker-a", 0).orElseThrow());
        letClaimsGoStale(q);
        List<Claim> b = new ArrayList<>();
        for (int i = 0; i < n; i++) b.add(q.claim("worker-b", 0).orElseThrow());
        assertEquals(Set.copyOf(a.stream().map(Claim::id).toList()), Set.copyOf(b.stream().map(Claim::id).toList()));

        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (List<Claim> claims : List.of(a, b)) {
                results.add(pool.submit(() -> {
                    go.await();
                    List<String> won = new ArrayList<>();
                    for (Claim c : claims) if (q.complete(c)) won.add(c.task());
                    return won;
                }));
            }
            go.countDown();
            List<String> wonA = results.get(0).get(30, TimeUnit.SECONDS);
            List<String> wonB = results.get(1).get(30, TimeUnit.SECONDS);
            Set<String> all = new HashSet<>(wonA);
            all.addAll(wonB);
            assertEquals(n, wonA.size() + wonB.size(), "each task must be won exactly once");
            assertEquals(n, all.size());
        } finally {
            pool.shutdownNow();
        }
        assertEquals(n, q.doneCount(doneSet(q)));
        assertEquals(0, q.pending());
    }

    @Test
    void twoWorkersCompletingOneTaskAtOnceGiveExactlyOneTrue() throws Exception {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        enqueue(q, "solo");
        Claim a = q.claim("worker-a", 0).orElseThrow();
        letClaimsGoStale(q);
        Claim b = q.claim("worker-b", 0).orElseThrow();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Boolean> fa = pool.submit(() -> { go.await(); return q.complete(a); });
            Future<Boolean> fb = pool.submit(() -> { go.await(); return q.complete(b); });
            go.countDown();
            assertTrue(fa.get(10, TimeUnit.SECONDS) ^ fb.get(10, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, q.doneCount(doneSet(q)));
    }

    @Test
    void poisonTaskIsDeadLetteredAfterMaxDeliveriesAndNotHandedOutAgain() throws Exception {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        String id = enqueue(q, "poison");
        enqueue(q, "healthy");
        for (int attempt = 1; attempt <= 3; attempt++) {
            Claim c = q.claim("worker-" + attempt, 0).orElseThrow();
            assertEquals(id, c.id());
            assertEquals(attempt, c.deliveries());
            q.fail(c, "tokenizer crashed on attempt " + attempt);
            if (attempt < 3) {
                assertEquals(List.of(), q.deadLetters());
                letClaimsGoStale(q);
            }
        }
        List<Map<String, String>> dead = q.deadLetters();
        assertEquals(1, dead.size());
        Map<String, String> d = dead.get(0);
        assertEquals("poison", d.get("task"));
        assertEquals(doneSet(q), d.get("done_set"));
        assertEquals("tokenizer crashed on attempt 3", d.get("reason"));
        assertEquals("3", d.get("deliveries"));
        assertEquals(id, d.get("original_id"));
        assertEquals("worker-3", d.get("last_consumer"));

        assertEquals(0, q.pending());
        Claim healthy = q.claim("worker-4", 0).orElseThrow();
        assertEquals("healthy", healthy.task());
        assertTrue(q.complete(healthy));
        letClaimsGoStale(q);
        assertEquals(Optional.empty(), q.claim("worker-4", 0));
        assertFalse(q.isDone(doneSet(q), "poison"));
        assertEquals(1, q.deadLetters().size());
    }

    @Test
    void taskThatKeepsKillingWorkersIsDeadLetteredByClaim() throws Exception {
        RedisShardQueue q = queue(2);
        q.ensureGroup();
        String id = enqueue(q, "killer");
        assertEquals(1, q.claim("w1", 0).orElseThrow().deliveries());
        letClaimsGoStale(q);
        assertEquals(2, q.claim("w2", 0).orElseThrow().deliveries());
        letClaimsGoStale(q);
        // third delivery would exceed maxDeliveries=2: claim moves it aside and finds nothing else to do.
        assertEquals(Optional.empty(), q.claim("w3", 0));
        List<Map<String, String>> dead = q.deadLetters();
        assertEquals(1, dead.size());
        assertEquals(id, dead.get(0).get("original_id"));
        assertEquals("3", dead.get(0).get("deliveries"));
        assertEquals("w3", dead.get(0).get("last_consumer"));
        assertTrue(dead.get(0).get("reason").contains("2 deliveries"), dead.get(0).get("reason"));
        assertEquals(0, q.pending());
    }

    @Test
    void failBeforeMaxDeliveriesLeavesTheEntryPendingForRetry() throws Exception {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        enqueue(q, "flaky");
        Claim first = q.claim("w1", 0).orElseThrow();
        q.fail(first, "transient");
        assertEquals(1, q.pending());
        letClaimsGoStale(q);
        Claim retry = q.claim("w2", 0).orElseThrow();
        assertEquals(first.id(), retry.id());
        assertEquals(2, retry.deliveries());
        assertTrue(q.complete(retry));
        assertEquals(List.of(), q.deadLetters());
    }

    @Test
    void alreadyDoneTasksAreAckedAndSkipped() throws Exception {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        enqueue(q, "dup");
        enqueue(q, "dup"); // the same task enqueued twice (e.g. a coordinator retried its XADD)
        Claim c = q.claim("w1", 0).orElseThrow();
        assertTrue(q.complete(c));
        assertEquals(Optional.empty(), q.claim("w1", 0));
        assertEquals(0, q.pending());
        assertEquals(0, q.lag());

        // a stale claim of a task someone else completed is acked when taken over, not handed out.
        enqueue(q, "other");
        Claim stale = q.claim("w1", 0).orElseThrow();
        jedis.sadd(doneSet(q), "other");
        letClaimsGoStale(q);
        assertEquals(Optional.empty(), q.claim("w2", 0));
        assertEquals(0, q.pending());
        assertFalse(q.complete(stale));
    }

    @Test
    void pendingLengthAndLagOnAKnownState() {
        RedisShardQueue q = queue(3);
        enqueue(q, "s0");
        enqueue(q, "s1");
        q.ensureGroup();
        for (int i = 2; i < 5; i++) enqueue(q, "s" + i);
        assertEquals(5, q.length());
        assertEquals(0, q.pending());
        assertEquals(5, q.lag());
        Claim c0 = q.claim("w", 0).orElseThrow();
        q.claim("w", 0).orElseThrow();
        assertEquals(2, q.pending());
        assertEquals(3, q.lag());
        q.complete(c0);
        assertEquals(1, q.pending());
        assertEquals(3, q.lag());
        assertEquals(4, q.length(), "the completed entry is deleted");
    }

    @Test
    void lagCountsPastOnePage() {
        RedisShardQueue q = queue(3);
        q.ensureGroup();
        for (int i = 0; i < 2_345; i++) enqueue(q, "many-" + i);
        q.claim("w", 0).orElseThrow();
        assertEquals(2_344, q.lag());
    }

    @Test
    void entriesWithoutTaskOrDoneSetAreRejected() {
        RedisShardQueue q = queue(3);
        assertThrows(IllegalArgumentException.class, () -> q.enqueue(Map.of("done_set", "d")));
        assertThrows(IllegalArgumentException.class, () -> q.enqueue(Map.of("task", "t")));
        Map<String, String> blank = new HashMap<>(Map.of("task", " ", "done_set", "d"));
        assertThrows(IllegalArgumentException.class, () -> q.enqueue(blank));
        assertThrows(IllegalArgumentException.class,
                () -> new RedisShardQueue(jedis, "s", "g", "s", 3, IDLE));
        assertThrows(IllegalArgumentException.class,
                () -> new RedisShardQueue(jedis, "s", "g", "d", 0, IDLE));
    }

    @Test
    void unreachableRedisGivesStoreUnavailable() throws Exception {
        int port;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        try (JedisPooled down = RedisStateStore.connect("redis://127.0.0.1:" + port)) {
            RedisShardQueue q = new RedisShardQueue(down, "s", "g", "s:dead", 3, IDLE);
            assertThrows(StoreUnavailableException.class, q::ensureGroup);
            assertThrows(StoreUnavailableException.class, () -> q.claim("w", 0));
            assertThrows(StoreUnavailableException.class, () -> enqueue(q, "t"));
        }
    }

    @Test
    void usingTheQueueWithoutItsGroupSaysToCallEnsureGroup() {
        RedisShardQueue q = queue(3);
        enqueue(q, "x");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> q.claim("w", 0));
        assertTrue(e.getMessage().contains("ensureGroup"), e.getMessage());
    }
}
