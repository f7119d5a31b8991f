package dev.mates.services.influencemodel;

import dev.mates.engine.data.Document;
import dev.mates.engine.influence.FitReport;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.store.ObjectStore;
import dev.mates.proto.v1.FitRequest;
import dev.mates.proto.v1.FitResponse;
import dev.mates.proto.v1.InfluenceModelGrpc;
import dev.mates.proto.v1.PredictRequest;
import dev.mates.proto.v1.PredictResponse;
import dev.mates.services.common.GrpcErrors;
import dev.mates.services.common.Limits;
import dev.mates.services.common.MatesStores;
import dev.mates.services.common.ModelCache;
import dev.mates.services.common.Protos;
import dev.mates.services.common.Refs;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.grpc.GrpcService;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The InfluenceModel service: fits the engine's influence model on a stored labels object (oracle.jsonl) and
 * writes the fitted model back to the object store; predicts with a stored model.
 */
@GrpcService
public class InfluenceModelGrpcService extends InfluenceModelGrpc.InfluenceModelImplBase {
    @Inject
    ObjectStore store;
    @Inject
    MatesStores stores;
    @Inject
    Limits limits;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "mates.influence.model-cache", defaultValue = "4")
    int cacheSize;
    private ModelCache cache;

    @Override
    @Blocking
    public void fit(FitRequest request, StreamObserver<FitResponse> observer) {
        GrpcErrors.unary(observer, () -> {
            String labelsKey = Refs.runKey("labels_ref", request.getLabelsRef(), stores.bucket(), request.getRunId());
            String modelKey = Refs.runKey("model_ref", request.getModelRef(), stores.bucket(), request.getRunId());
            if (!InfluenceModels.BACKBONES.contains(request.getBackbone())) {
                throw GrpcErrors.invalid("backbone", "'" + request.getBackbone() + "' is unknown; valid: " + InfluenceModels.BACKBONES);
            }
            RunArtifacts.Labels labels = RunArtifacts.labelsFromJsonl(RunArtifacts.require(store, labelsKey), labelsKey);
            if (labels.docs().size() < 4) {
                throw GrpcErrors.invalid("labels_ref", labelsKey + " holds " + labels.docs().size()
                        + " labels; a fit needs at least 4");
            }
            Timer.Sample t = Timer.start(registry);
            InfluenceModel model = InfluenceModels.create(request.getBackbone(), request.getSeed());
            FitReport r = model.fit(labels.docs(), labels.influence(), request.getSeed());
            store.put(modelKey, model.save());
            cache().invalidate(modelKey); // a re-fit to the same model_ref must not leave Predict on the old model
            t.stop(registry.timer("mates.influence.fit.seconds", "backbone", request.getBackbone()));
            registry.counter("mates.influence.fit.labels").increment(labels.docs().size());
            Log.infof("run %s: fitted %s on %d labels, val Spearman %.3f -> %s", request.getRunId(), r.backbone(),
                    labels.docs().size(), r.valSpearman(), modelKey);
            return FitResponse.newBuilder().setModelRef(store.ref(modelKey)).setMetrics(Protos.toProto(r)).build();
        });
    }

    @Override
    @Blocking
    public void predict(PredictRequest request, StreamObserver<PredictResponse> observer) {
        GrpcErrors.unary(observer, () -> {
            String key = Refs.anyRunKey("model_ref", request.getModelRef(), stores.bucket());
            List<Document> docs = Protos.documents(request.getDocumentsList(), limits.maxDocuments(), limits.maxDocumentChars());
            InfluenceModel model = cache().get(key, request.getBackbone());
            double[] s = model.predict(docs);
            registry.counter("mates.influence.predicted.documents").increment(docs.size());
            PredictResponse.Builder b = PredictResponse.newBuilder();
            for (double v : s) b.addScores(v);
            return b.build();
        });
    }

    private synchronized ModelCache cache() {
        if (cache == null) cache = new ModelCache(store, cacheSize);
        return cache;
    }
}
