package dev.mates.engine.store;

import java.util.Map;
import java.util.Set;

/**
 * Port for small mutable run state: a hash per key (phase, stage, step, checkpoint ref) and sets of names (the
 * active runs). Keys come from {@code StorageLayout}.
 */
public interface StateStore {
    void put(String key, Map<String, String> fields);

    Map<String, String> get(String key);

    /** Adds {@code member} to the set {@code key}. */
    void add(String key, String member);

    /** Removes {@code member} from the set {@code key} (nothing if absent). */
    void remove(String key, String member);

    /** The members of the set {@code key} (empty if none). */
    Set<String> members(String key);

    /**
     * Writes the hash {@code key} only if it does not exist, in one step: of two callers racing on one key exactly
     * one gets {@code true}.
     */
    boolean createIfAbsent(String key, Map<String, String> fields);

    /**
     * Takes or renews a lease: succeeds when {@code key} is free (never taken, released or expired) or already held
     * by {@code owner}, and then holds it for {@code owner} for {@code ttlMillis} from now. False when another owner
     * holds it.
     */
    boolean lease(String key, String owner, long ttlMillis);

    /** Gives a lease up, if {@code owner} holds it (nothing otherwise). */
    void release(String key, String owner);
}
