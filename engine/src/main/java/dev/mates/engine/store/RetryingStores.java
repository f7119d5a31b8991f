package dev.mates.engine.store;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Stores that ride out short outages: every call of the wrapped store that fails with
 * {@link StoreUnavailableException} is retried with the {@link Retry} policy; every other failure passes through.
 * Each operation is idempotent (a put of the same bytes or fields, a set add or remove), so a retry after a lost
 * answer is safe.
 */
public final class RetryingStores {
    private RetryingStores() {
    }

    public static ObjectStore objects(ObjectStore store, Retry retry) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(retry, "retry");
        return new ObjectStore() {
            @Override
            public void put(String key, byte[] bytes) {
                retry.run("writing object " + key, () -> store.put(key, bytes));
            }

            @Override
            public Optional<byte[]> get(String key) {
                return retry.call("reading object " + key, () -> store.get(key));
            }

            @Override
            public boolean exists(String key) {
                return retry.call("looking up object " + key, () -> store.exists(key));
            }

            @Override
            public List<String> list(String prefix) {
                return retry.call("listing objects under " + prefix, () -> store.list(prefix));
            }

            @Override
            public String ref(String key) {
                return store.ref(key);
            }
        };
    }

    public static StateStore state(StateStore store, Retry retry) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(retry, "retry");
        return new StateStore() {
            @Override
            public void put(String key, Map<String, String> fields) {
                retry.run("writing state " + key, () -> store.put(key, fields));
            }

            @Override
            public Map<String, String> get(String key) {
                return retry.call("reading state " + key, () -> store.get(key));
            }

            @Override
            public void add(String key, String member) {
                retry.run("adding to " + key, () -> store.add(key, member));
            }

            @Override
            public void remove(String key, String member) {
                retry.run("removing from " + key, () -> store.remove(key, member));
            }

            @Override
            public Set<String> members(String key) {
                return retry.call("reading set " + key, () -> store.members(key));
            }

            @Override
            public boolean createIfAbsent(String key, Map<String, String> fields) {
                return retry.call("creating " + key, () -> store.createIfAbsent(key, fields));
            }

            @Override
            public boolean lease(String key, String owner, long ttlMillis) {
                return retry.call("taking the lease " + key, () -> store.lease(key, owner, ttlMillis));
            }

            @Override
            public void release(String key, String owner) {
                retry.run("releasing the lease " + key, () -> store.release(key, owner));
            }
        };
    }
}
