package dev.mates.services.common;

import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.store.ObjectStore;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fitted influence models loaded from the object store, kept by key (least recently used evicted): a stage's
 * shards all use the same model, so it is read and deserialized once per process.
 */
public final class ModelCache {
    private final ObjectStore store;
    private final int capacity;
    private final Map<String, InfluenceModel> models = new LinkedHashMap<>(16, 0.75f, true);

    public ModelCache(ObjectStore store, int capacity) {
        this.store = store;
        this.capacity = Math.max(1, capacity);
    }

    public synchronized InfluenceModel get(String key, String backbone) {
        String cacheKey = backbone + "@" + key;
        InfluenceModel m = models.get(cacheKey);
        if (m != null) return m;
        if (!dev.mates.engine.influence.InfluenceModels.BACKBONES.contains(backbone)) {
            throw GrpcErrors.invalid("backbone", "'" + backbone + "' is unknown; valid: " + InfluenceModels.BACKBONES);
        }
        m = InfluenceModels.load(backbone, RunArtifacts.require(store, key));
        models.put(cacheKey, m);
        if (models.size() > capacity) {
            String eldest = models.keySet().iterator().next();
            close(models.remove(eldest));
        }
        return m;
    }

    /**
     * Forgets the models cached for {@code key} (every backbone), so the next {@link #get} reads the object again:
     * call it after writing a new model to {@code key}, or a re-fit to the same reference is never seen.
     */
    public synchronized void invalidate(String key) {
        models.entrySet().removeIf(e -> {
            if (!e.getKey().substring(e.getKey().indexOf('@') + 1).equals(key)) return false;
            close(e.getValue());
            return true;
        });
    }

    private static void close(InfluenceModel old) {
        if (old instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing a cached encoder is best effort
            }
        }
    }
}
