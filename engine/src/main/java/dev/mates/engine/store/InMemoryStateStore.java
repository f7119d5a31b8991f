package dev.mates.engine.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The single-machine state store: hashes in a concurrent map, gone with the process. */
public final class InMemoryStateStore implements StateStore {
    private final Map<String, Map<String, String>> data = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> sets = new ConcurrentHashMap<>();
    private record Lease(String owner, long expiresNanos) {}
    private final Map<String, Lease> leases = new ConcurrentHashMap<>();

    @Override
    public void put(String key, Map<String, String> fields) {
        data.compute(key, (k, old) -> {
            Map<String, String> m = old == null ? new LinkedHashMap<>() : new LinkedHashMap<>(old);
            m.putAll(fields);
            return m;
        });
    }

    @Override
    public Map<String, String> get(String key) {
        return Map.copyOf(data.getOrDefault(key, Map.of()));
    }

    @Override
    public void add(String key, String member) {
        sets.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(member);
    }

    @Override
    public void remove(String key, String member) {
        sets.getOrDefault(key, Set.of()).remove(member);
    }

    @Override
    public Set<String> members(String key) {
        return Set.copyOf(sets.getOrDefault(key, Set.of()));
    }

    @Override
    public boolean createIfAbsent(String key, Map<String, String> fields) {
        boolean[] created = {false};
        data.computeIfAbsent(key, k -> {
            created[0] = true;
            return new LinkedHashMap<>(fields);
        });
        return created[0];
    }

    @Override
    public boolean lease(String key, String owner, long ttlMillis) {
        long now = System.nanoTime();
        Lease mine = new Lease(owner, now + ttlMillis * 1_000_000L);
        Lease after = leases.compute(key, (k, old) ->
                old == null || old.owner.equals(owner) || old.expiresNanos - now <= 0 ? mine : old);
        return after == mine;
    }

    @Override
    public void release(String key, String owner) {
        leases.computeIfPresent(key, (k, old) -> old.owner.equals(owner) ? null : old);
    }
}
