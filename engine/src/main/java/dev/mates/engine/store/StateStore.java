package dev.mates.engine.store;

import java.util.Map;

/** Port for small mutable run state (phase, stage, step, checkpoint ref): a hash per key. */
public interface StateStore {
    void put(String key, Map<String, String> fields);

    Map<String, String> get(String key);
}
