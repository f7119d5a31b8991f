package dev.mates.engine.store;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The single-machine state store: hashes in a concurrent map, gone with the process. */
public final class InMemoryStateStore implements StateStore {
    private final Map<String, Map<String, String>> data = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> sets = new ConcurrentHashMap<>();

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
}
