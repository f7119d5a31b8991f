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
}
