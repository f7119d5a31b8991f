package dev.mates.services.scorer;

import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.store.ObjectStore;
import dev.mates.services.common.GrpcErrors;
import dev.mates.services.common.ModelCache;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The process-wide cache of fitted models, shared by the online RPC and the shard workers. */
@ApplicationScoped
public class ScorerModels {
    @Inject
    ObjectStore store;
    @ConfigProperty(name = "mates.scorer.model-cache", defaultValue = "4")
    int capacity;
    private ModelCache cache;

    public synchronized InfluenceModel get(String key, String backbone) {
        if (backbone == null || backbone.isBlank()) throw GrpcErrors.invalid("backbone", "is required (ngram, minilm-int8, minilm-fp32)");
        if (cache == null) cache = new ModelCache(store, capacity);
        return cache.get(key, backbone);
    }
}
