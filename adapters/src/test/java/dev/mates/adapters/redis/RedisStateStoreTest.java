package dev.mates.adapters.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.engine.store.StoreUnavailableException;
import dev.mates.local.LocalRedis;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.JedisPooled;

class RedisStateStoreTest {
    static LocalRedis redis;
    static RedisStateStore store;

    @BeforeAll
    static void startRedis() {
        redis = LocalRedis.start(0, null);
        store = new RedisStateStore(redis.uri(), "mates:");
    }

    @AfterAll
    static void stopRedis() {
        if (store != null) store.close();
        if (redis != null) redis.stop();
    }

    @Test
    void putMergesFieldsAndGetReadsThemBack() {
        store.put("run/r1", Map.of("phase", "warmup", "step", "0"));
        store.put("run/r1", Map.of("step", "120", "checkpoint", "s3://b/ck/120"));
        assertEquals(Map.of("phase", "warmup", "step", "120", "checkpoint", "s3://b/ck/120"), store.get("run/r1"));
    }

    @Test
    void createIfAbsentCreatesOnceEvenWhenManyRace() throws Exception {
        int racers = 8;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(racers);
        try {
            java.util.List<java.util.concurrent.Future<Boolean>> fs = new java.util.ArrayList<>();
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            for (int i = 0; i < racers; i++) {
                String who = "creator-" + i;
                fs.add(pool.submit(() -> {
                    go.await();
                    return store.createIfAbsent("run/race", Map.of("state", "PENDING", "by", who));
                }));
            }
            go.countDown();
            int created = 0;
            for (var f : fs) created += f.get() ? 1 : 0;
            assertEquals(1, created);
            assertEquals(2, store.get("run/race").size(), "one creator's fields, not a mix");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void leasesHaveOneOwnerUntilReleasedOrExpired() throws Exception {
        assertTrue(store.lease("lease/x", "a", 10_000));
        assertTrue(store.lease("lease/x", "a", 10_000), "the owner renews");
        org.junit.jupiter.api.Assertions.assertFalse(store.lease("lease/x", "b", 10_000));
        store.release("lease/x", "b");
        org.junit.jupiter.api.Assertions.assertFalse(store.lease("lease/x", "b", 10_000), "b cannot release a's lease");
        store.release("lease/x", "a");
        assertTrue(store.lease("lease/x", "b", 100));
        Thread.sleep(250);
        assertTrue(store.lease("lease/x", "a", 10_000), "free once expired");
    }

    @Test
    void missingKeyIsEmptyMap() {
        assertEquals(Map.of(), store.get("run/none"));
        store.put("run/none", Map.of());
        assertEquals(Map.of(), store.get("run/none"));
    }

    @Test
    void prefixIsAppliedToEveryKey() {
        store.put("run/p", Map.of("a", "1"));
        try (JedisPooled raw = new JedisPooled(java.net.URI.create(redis.uri()))) {
            assertEquals(Map.of("a", "1"), raw.hgetAll("mates:run/p"));
            assertEquals(Map.of(), raw.hgetAll("run/p"));
        }
        try (RedisStateStore other = new RedisStateStore(redis.uri(), "other:")) {
            assertEquals(Map.of(), other.get("run/p"));
        }
    }

    @Test
    void otherRedisErrorsAreIllegalStateNamingTheKey() {
        try (JedisPooled raw = new JedisPooled(java.net.URI.create(redis.uri()))) {
            raw.set("mates:plain-string", "x");
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.get("plain-string"));
        assertTrue(e.getMessage().contains("mates:plain-string"), e.getMessage());
    }

    @Test
    void pingWorksOnLiveRedis() {
        store.ping();
    }

    @Test
    void unreachableRedisGivesStoreUnavailableNamingTheUri() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        String uri = "redis://127.0.0.1:" + port;
        try (RedisStateStore down = new RedisStateStore(uri, "mates:")) {
            StoreUnavailableException e = assertThrows(StoreUnavailableException.class, down::ping);
            assertTrue(e.getMessage().contains(uri), e.getMessage());
            assertThrows(StoreUnavailableException.class, () -> down.put("k", Map.of("a", "b")));
            assertThrows(StoreUnavailableException.class, () -> down.get("k"));
        }
    }

    @Test
    void passwordsAreRedactedFromMessages() {
        assertEquals("redis://***@host:6379", RedisStateStore.redact("redis://:secret@host:6379"));
        assertEquals("redis://127.0.0.1:6379", RedisStateStore.redact("redis://127.0.0.1:6379"));
        assertThrows(IllegalArgumentException.class, () -> new RedisStateStore("not a uri", "p:"));
    }
}
