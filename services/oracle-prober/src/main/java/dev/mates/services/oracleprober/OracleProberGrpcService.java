package dev.mates.services.oracleprober;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.oracle.OracleMethod;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.oracle.ReferenceSet;
import dev.mates.engine.pipeline.EmbeddedRoles;
import dev.mates.engine.util.Listener;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.train.Checkpoint;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.proto.v1.OracleProberGrpc;
import dev.mates.proto.v1.ProbeRequest;
import dev.mates.proto.v1.ProbeResult;
import dev.mates.services.common.GrpcErrors;
import dev.mates.services.common.Limits;
import dev.mates.services.common.MatesStores;
import dev.mates.services.common.Protos;
import dev.mates.services.common.Refs;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.grpc.GrpcService;
import io.quarkus.logging.Log;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The OracleProber service: loads the run's config, tokenizer, reference set and the requested checkpoint from the
 * object store into the engine's trainer, and measures oracle influence exactly as the embedded run does (one
 * optimizer step per probe from the checkpoint's weights and moments, then restore). A process holds one model
 * (DJL allows one gradient collector per JVM), so probes are serialized per replica: scale by replicas.
 */
@GrpcService
public class OracleProberGrpcService extends OracleProberGrpc.OracleProberImplBase {
    @Inject
    ObjectStore store;
    @Inject
    MatesStores stores;
    @Inject
    Limits limits;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "mates.oracle.stream-chunk", defaultValue = "8")
    int chunk;

    private final Object lock = new Object();
    private String loadedConfigKey;
    private String loadedTokenizerKey;
    private String loadedCheckpointKey;
    private RunConfig cfg;
    private Tokenizer tokenizer;
    private Trainer trainer;
    private String loadedReferenceKey;
    private TokenBatch reference;

    @Override
    @Blocking
    public void probe(ProbeRequest request, StreamObserver<ProbeResult> observer) {
        try {
            OracleMethod parsed;
            try {
                parsed = request.getMethod().isEmpty() ? OracleMethod.EXACT : OracleMethod.parse(request.getMethod());
            } catch (IllegalArgumentException e) {
                throw GrpcErrors.invalid("method", e.getMessage());
            }
            String method = parsed.key();
            String configKey = Refs.runKey("config_ref", request.getConfigRef(), stores.bucket(), request.getRunId());
            String tokenizerKey = Refs.runKey("tokenizer_ref", request.getTokenizerRef(), stores.bucket(), request.getRunId());
            String referenceKey = Refs.runKey("reference_ref", request.getReferenceRef(), stores.bucket(), request.getRunId());
            String checkpointKey = Refs.runKey("checkpoint_ref", request.getCheckpointRef(), stores.bucket(), request.getRunId());
            if (!checkpointKey.endsWith("/")) checkpointKey += "/";
            List<Document> docs = Protos.documents(request.getDocumentsList(), limits.maxDocuments(), limits.maxDocumentChars());
            synchronized (lock) {
                noGradMode();
                load(configKey, tokenizerKey, referenceKey, checkpointKey);
                try (OracleProber oracle = new EmbeddedRoles(cfg, tokenizer, Listener.QUIET).oracle(trainer, reference, parsed, null)) {
                for (int from = 0; from < docs.size(); from += chunk) {
                    if (observer instanceof ServerCallStreamObserver<?> s && s.isCancelled()) return;
                    int to = Math.min(docs.size(), from + chunk);
                    Timer.Sample t = Timer.start(registry);
                    double[] influence = oracle.probe(docs.subList(from, to));
                    long nanos = t.stop(Timer.builder("mates.oracle.probe.chunk.seconds").tag("method", method)
                            .publishPercentileHistogram().register(registry));
                    Timer perProbe = Timer.builder("mates.oracle.probe.seconds").tag("method", method)
                            .description("Latency of one probe (chunk time / probes in the chunk)")
                            .publishPercentileHistogram().register(registry);
                    for (int i = from; i < to; i++) {
                        perProbe.record(Duration.ofNanos(nanos / (to - from)));
                        observer.onNext(ProbeResult.newBuilder().setIndex(i).setDocumentId(docs.get(i).id())
                                .setInfluence(influence[i - from]).build());
                    }
                    registry.counter("mates.oracle.probes", "method", method).increment(to - from);
                }
                }
            }
            observer.onCompleted();
        } catch (Throwable t) {
            observer.onError(GrpcErrors.toStatus(t));
        }
    }

    /**
     * PyTorch's grad mode is per thread and on by default; DJL turns it off only on the thread that loads the engine,
     * and the embedded run probes on that thread. Calls are served by any thread of the worker pool, so each call
     * puts its thread in the embedded run's state: in-place restores need it ("a view of a leaf Variable that
     * requires grad is being used in an in-place operation"; GptTrainer now also guards its own in-place writes),
     * and forward passes record no autograd graph. GradientCollector still turns it on for each backward pass.
     */
    private static void noGradMode() {
        Engine.getEngine("PyTorch");
        JniUtils.setGradMode(false);
    }

    /** Loads what changed since the last call; a new checkpoint of the same run only restores weights and moments. */
    private void load(String configKey, String tokenizerKey, String referenceKey, String checkpointKey) {
        if (!configKey.equals(loadedConfigKey) || !tokenizerKey.equals(loadedTokenizerKey)) {
            RunConfig c = RunArtifacts.readConfig(store, configKey);
            Tokenizer tok = RunArtifacts.readTokenizer(store, tokenizerKey);
            if (trainer != null) trainer.close();
            trainer = null;
            // Nothing counts as loaded until the new trainer exists: if building it fails, the next call rebuilds.
            loadedConfigKey = null;
            loadedTokenizerKey = null;
            loadedCheckpointKey = null;
            loadedReferenceKey = null;
            cfg = c;
            tokenizer = tok;
            trainer = new EmbeddedRoles(cfg, tokenizer, Listener.QUIET).trainer();
            loadedConfigKey = configKey;
            loadedTokenizerKey = tokenizerKey;
        }
        if (!referenceKey.equals(loadedReferenceKey)) {
            List<Document> ref = RunArtifacts.documentsFromJsonl(RunArtifacts.require(store, referenceKey), referenceKey);
            reference = ReferenceSet.batch(ref, tokenizer, cfg.getInt("model.context"));
            loadedReferenceKey = referenceKey;
        }
        if (!checkpointKey.equals(loadedCheckpointKey)) {
            Checkpoint c = RunArtifacts.readCheckpoint(store, checkpointKey);
            // A restore that fails part-way leaves a mix of two states: forget the old one so it is reloaded.
            loadedCheckpointKey = null;
            trainer.restore(c);
            loadedCheckpointKey = checkpointKey;
            registry.counter("mates.oracle.checkpoint.loads").increment();
            Log.infof("loaded checkpoint %s (step %d)", checkpointKey, c.step());
        }
    }

    @PreDestroy
    void close() {
        synchronized (lock) {
            if (trainer != null) trainer.close();
        }
    }
}
