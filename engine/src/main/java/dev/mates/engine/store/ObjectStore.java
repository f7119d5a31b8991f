package dev.mates.engine.store;

import java.util.List;
import java.util.Optional;

/**
 * Port for large artefacts (checkpoints, labels, models, manifests). Keys are '/'-separated paths. Writes are
 * atomic: a reader sees the old object, the new one, or none, never half of one.
 */
public interface ObjectStore {
    void put(String key, byte[] bytes);

    Optional<byte[]> get(String key);

    boolean exists(String key);

    /** Keys under {@code prefix}, sorted. */
    List<String> list(String prefix);

    /** Human-readable reference to a key (a path or an s3:// URI), written into manifests. */
    String ref(String key);
}
