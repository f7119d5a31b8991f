package dev.mates.engine.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryTest {
    /** A clock that only moves when the retry sleeps. */
    static final class FakeTime {
        long nanos;
        final List<Long> sleeps = new ArrayList<>();

        Retry apply(Retry r) {
            return r.withClock(ms -> {
                sleeps.add(ms);
                nanos += ms * 1_000_000L;
            }, () -> nanos);
        }
    }

    static StoreUnavailableException down() {
        return new StoreUnavailableException("store down", null);
    }

    @Test
    void nominalBackoffDoublesUpToTheCap() {
        Retry r = Retry.of(Duration.ofMillis(100), Duration.ofMillis(1000), Duration.ofMinutes(2));
        assertEquals(List.of(100L, 200L, 400L, 800L, 1000L, 1000L),
                List.of(r.nominalBackoffMillis(1), r.nominalBackoffMillis(2), r.nominalBackoffMillis(3),
                        r.nominalBackoffMillis(4), r.nominalBackoffMillis(5), r.nominalBackoffMillis(40)));
    }

    @Test
    void aShortOutageIsRiddenOutWithJitteredWaitsInsideTheirBounds() {
        FakeTime t = new FakeTime();
        Retry r = t.apply(Retry.of(Duration.ofMillis(100), Duration.ofMillis(1000), Duration.ofMinutes(2)));
        int[] calls = {0};
        String v = r.call("op", () -> {
            if (++calls[0] <= 6) throw down();
            return "ok";
        });
        assertEquals("ok", v);
        assertEquals(7, calls[0]);
        assertEquals(6, t.sleeps.size());
        for (int i = 0; i < 6; i++) {
            long nominal = r.nominalBackoffMillis(i + 1);
            long w = t.sleeps.get(i);
            assertTrue(w >= nominal / 2 && w <= nominal, "wait " + i + " = " + w + " outside [" + nominal / 2 + ", " + nominal + "]");
        }
    }

    @Test
    void jitterSpreadsTheWaits() {
        // Equal jitter: the first wait is uniform on [500, 1000]; 200 draws cannot all be equal unless it is broken.
        java.util.Set<Long> firstWaits = new java.util.HashSet<>();
        for (int i = 0; i < 200; i++) {
            FakeTime t = new FakeTime();
            Retry r = t.apply(Retry.of(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMinutes(1)));
            int[] n = {0};
            r.call("op", () -> {
                if (n[0]++ == 0) throw down();
                return 1;
            });
            firstWaits.add(t.sleeps.get(0));
        }
        assertTrue(firstWaits.size() > 50, "only " + firstWaits.size() + " distinct waits in 200 draws");
    }

    @Test
    void pastTheBudgetTheLastFailureIsThrownNamingTheOperation() {
        FakeTime t = new FakeTime();
        Retry r = t.apply(Retry.of(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(120)));
        StoreUnavailableException last = down();
        Retry.OutageException e = assertThrows(Retry.OutageException.class, () -> r.call("writing x", () -> {
            throw last;
        }));
        assertSame(last, e.getCause());
        assertTrue(e.getMessage().startsWith("writing x: still failing"), e.getMessage());
        assertTrue(e.getMessage().contains("outage budget 120 s"), e.getMessage());
        long slept = t.sleeps.stream().mapToLong(Long::longValue).sum();
        assertTrue(slept >= 120_000 && slept <= 120_000 + 1, "slept " + slept + " ms for a 120 s budget");
    }

    @Test
    void otherFailuresAreNotRetried() {
        FakeTime t = new FakeTime();
        Retry r = t.apply(Retry.of(Duration.ofMillis(10), Duration.ofMillis(10), Duration.ofMinutes(1)));
        int[] calls = {0};
        assertThrows(IllegalStateException.class, () -> r.call("op", () -> {
            calls[0]++;
            throw new IllegalStateException("bad data");
        }));
        assertEquals(1, calls[0]);
        assertEquals(List.of(), t.sleeps);
    }

    @Test
    void aStopRequestEndsTheRetriesAtOnce() {
        FakeTime t = new FakeTime();
        Retry r = t.apply(Retry.of(Duration.ofMillis(10), Duration.ofMillis(10), Duration.ofMinutes(1)));
        assertThrows(Retry.OutageException.class, () -> r.call("op", () -> {
            throw down();
        }, Retry.STORE_UNAVAILABLE, () -> true));
        assertEquals(List.of(), t.sleeps);
        assertThrows(StoreUnavailableException.class, () -> Retry.none().call("op", () -> {
            throw down();
        }));
    }

    @Test
    void theObserverHearsEveryRetry() {
        FakeTime t = new FakeTime();
        List<Integer> attempts = new ArrayList<>();
        Retry r = t.apply(Retry.of(Duration.ofMillis(10), Duration.ofMillis(10), Duration.ofMinutes(1))
                .observedBy((op, attempt, wait, failure) -> attempts.add(attempt)));
        int[] n = {0};
        r.call("op", () -> {
            if (n[0]++ < 3) throw new RuntimeException(down());
            return 0;
        });
        assertEquals(List.of(1, 2, 3), attempts);
    }

    @Test
    void retryingStoresRetryOnlyUnavailability() {
        FakeTime t = new FakeTime();
        Retry r = t.apply(Retry.of(Duration.ofMillis(10), Duration.ofMillis(10), Duration.ofMinutes(1)));
        int[] failuresLeft = {2};
        InMemoryStateStore inner = new InMemoryStateStore();
        StateStore flaky = RetryingStores.state(new StateStoreDelegate(inner) {
            @Override
            public Map<String, String> get(String key) {
                if (failuresLeft[0]-- > 0) throw down();
                return super.get(key);
            }
        }, r);
        inner.put("k", Map.of("a", "1"));
        assertEquals(Map.of("a", "1"), flaky.get("k"));
        assertEquals(2, t.sleeps.size());

        FolderObjectStore dir = new FolderObjectStore(createTemp());
        ObjectStore objects = RetryingStores.objects(dir, r);
        objects.put("a/b", new byte[] {1});
        assertEquals(Optional.empty(), objects.get("missing"));
        assertEquals(1, objects.get("a/b").orElseThrow().length);
    }

    private static java.nio.file.Path createTemp() {
        try {
            return java.nio.file.Files.createTempDirectory("retry-test");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Forwards everything to a state store; tests override one method. */
    static class StateStoreDelegate implements StateStore {
        final StateStore d;

        StateStoreDelegate(StateStore d) {
            this.d = d;
        }

        public void put(String key, Map<String, String> fields) {
            d.put(key, fields);
        }

        public Map<String, String> get(String key) {
            return d.get(key);
        }

        public void add(String key, String member) {
            d.add(key, member);
        }

        public void remove(String key, String member) {
            d.remove(key, member);
        }

        public java.util.Set<String> members(String key) {
            return d.members(key);
        }

        public boolean createIfAbsent(String key, Map<String, String> fields) {
            return d.createIfAbsent(key, fields);
        }

        public boolean lease(String key, String owner, long ttlMillis) {
            return d.lease(key, owner, ttlMillis);
        }

        public void release(String key, String owner) {
            d.release(key, owner);
        }
    }
}
