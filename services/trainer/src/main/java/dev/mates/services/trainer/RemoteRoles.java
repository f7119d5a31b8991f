package dev.mates.services.trainer;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.influence.FitReport;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.oracle.OracleMethod;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.pipeline.EmbeddedRoles;
import dev.mates.engine.pipeline.Roles;
import dev.mates.engine.pipeline.Stage;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.score.Scorer;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Listener;
import dev.mates.proto.v1.FitRequest;
import dev.mates.proto.v1.FitResponse;
import dev.mates.proto.v1.InfluenceModelGrpc;
import dev.mates.proto.v1.OracleProberGrpc;
import dev.mates.proto.v1.PredictRequest;
import dev.mates.proto.v1.ProbeRequest;
import dev.mates.proto.v1.ProbeResult;
import dev.mates.services.common.Protos;
import dev.mates.engine.store.Retry;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The distributed wiring of the engine's roles: the trainer is local (this service owns the model), oracle
 * probing fans out over the OracleProber replicas, the influence model is fitted by the InfluenceModel service,
 * scoring goes through the Redis Stream to scorer workers, and selection (cheap, exact) runs here on their
 * scores. The algorithm is the engine's {@code Pipeline}: one code path, two wirings.
 */
final class RemoteRoles implements Roles {
    private final RunConfig cfg;
    private final Tokenizer tokenizer;
    private final EmbeddedRoles local;
    private final ObjectStore store;
    private final List<Channel> probers;
    private final int probeParallelism;
    private final Channel influence;
    private final RedisShardQueue queue;
    private final String keyPrefix;
    private final int shardSize;
    private final long scoreTimeoutMillis;
    private final Listener listener;
    private final Retry rpc;
    private final Deadlines deadlines;
    private final long lostCheckMillis;

    /** Per call kind, how long the trainer waits for an answer before it counts the peer as hung and retries. */
    record Deadlines(Duration probe, Duration fit, Duration predict) {
        io.grpc.Deadline forProbe() {
            return io.grpc.Deadline.after(probe.toMillis(), TimeUnit.MILLISECONDS);
        }

        io.grpc.Deadline forFit() {
            return io.grpc.Deadline.after(fit.toMillis(), TimeUnit.MILLISECONDS);
        }

        io.grpc.Deadline forPredict() {
            return io.grpc.Deadline.after(predict.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    RemoteRoles(RunConfig cfg, Tokenizer tokenizer, ObjectStore store, List<Channel> probers, int probeParallelism,
                Channel influence, RedisShardQueue queue, String keyPrefix, int shardSize, long scoreTimeoutMillis,
                long lostCheckMillis, Listener listener, Retry rpc, Deadlines deadlines) {
        this.cfg = cfg;
        this.tokenizer = tokenizer;
        this.local = new EmbeddedRoles(cfg, tokenizer, listener);
        this.store = store;
        if (probers.isEmpty()) throw new IllegalArgumentException("mates.trainer.probers: no prober address configured");
        this.probers = probers;
        this.probeParallelism = probeParallelism > 0 ? probeParallelism : probers.size();
        this.influence = influence;
        this.queue = queue;
        this.keyPrefix = keyPrefix;
        this.shardSize = shardSize;
        this.scoreTimeoutMillis = scoreTimeoutMillis;
        this.listener = listener;
        this.rpc = rpc;
        this.deadlines = deadlines;
        this.lostCheckMillis = lostCheckMillis;
    }

    @Override
    public Trainer trainer() {
        return local.trainer();
    }

    @Override
    public OracleProber oracle(Trainer trainer, TokenBatch reference, OracleMethod method, Stage stage) {
        return probes -> probeRemote(probes, method.key(), stage);
    }

    /**
     * Splits the probes into contiguous parts (as many as the probe parallelism: by default one per prober
     * address), probed in parallel and merged by index.
     */
    private double[] probeRemote(List<Document> probes, String method, Stage stage) {
        double[] out = new double[probes.size()];
        Arrays.fill(out, Double.NaN);
        if (probes.isEmpty()) return out;
        int parts = Math.min(probeParallelism, probes.size());
        ExecutorService pool = Executors.newFixedThreadPool(parts);
        BitSet answered = new BitSet(probes.size());
        try {
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int p = 0; p < parts; p++) {
                int part = p;
                int from = (int) ((long) probes.size() * p / parts);
                int to = (int) ((long) probes.size() * (p + 1) / parts);
                futures.add(CompletableFuture.runAsync(() -> {
                    int[] attempt = {0};
                    // A part whose prober fails (UNAVAILABLE, or no answer by the deadline) is probed again, from its
                    // start, on the next prober address; results of the failed attempt are overwritten.
                    rpc.call("probing " + (to - from) + " documents of stage " + stage.stage(), () -> {
                        // With more parts than channels (one dns:/// target over a headless Service), parts share a
                        // round_robin channel and each concurrent call lands on the next prober pod.
                        Channel ch = probers.get((part + attempt[0]++) % probers.size());
                        probePart(probes, from, to, method, stage, ch, out, answered);
                        return null;
                    }, RemoteRoles::retryable, listener::cancelled);
                }, pool));
            }
            for (CompletableFuture<Void> f : futures) f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < out.length; i++) {
            if (Double.isNaN(out[i])) throw new IllegalStateException("no oracle result for probe '" + probes.get(i).id() + "'");
        }
        return out;
    }

    private void probePart(List<Document> probes, int from, int to, String method, Stage stage, Channel ch,
                           double[] out, BitSet answered) {
        ProbeRequest.Builder req = ProbeRequest.newBuilder().setRunId(stage.run()).setMethod(method)
                .setConfigRef(StorageLayout.configKey(stage.run()))
                .setTokenizerRef(StorageLayout.tokenizerKey(stage.run()))
                .setReferenceRef(StorageLayout.referenceKey(stage.run()))
                .setCheckpointRef(stage.checkpointKey());
        for (int i = from; i < to; i++) req.addDocuments(Protos.toProto(probes.get(i)));
        Iterator<ProbeResult> it = OracleProberGrpc.newBlockingStub(ch).withDeadline(deadlines.forProbe()).probe(req.build());
        while (it.hasNext()) {
            ProbeResult r = it.next();
            int idx = from + r.getIndex();
            if (r.getIndex() < 0 || idx >= to || !probes.get(idx).id().equals(r.getDocumentId())) {
                throw new IllegalStateException("prober " + ch.authority() + " answered for document '"
                        + r.getDocumentId() + "' at index " + r.getIndex() + ", which it was not sent");
            }
            synchronized (answered) {
                out[idx] = r.getInfluence();
                answered.set(idx);
                listener.progress("probing", answered.cardinality(), probes.size(), "probes", method + " oracle, "
                        + probers.size() + " prober address(es)");
            }
        }
    }

    /** Worth another try: the peer is away or did not answer in time (a hung peer), or its store was away. */
    static boolean retryable(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof StatusRuntimeException s) {
                Status.Code code = s.getStatus().getCode();
                return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
            }
        }
        return Retry.STORE_UNAVAILABLE.test(t);
    }

    @Override
    public InfluenceModel influenceModel(Stage stage) {
        String backbone = cfg.get("influence.backbone");
        // A fit-unique key: workers cache models by key, and a stage re-fitted after a resume must not be scored
        // with the model of the attempt before it. The Pipeline also stores it under the stage's canonical key.
        String modelKey = StorageLayout.fitModelKey(stage.run(), stage.arm(), stage.stage(), backbone,
                UUID.randomUUID().toString().substring(0, 8));
        InfluenceModel flops = InfluenceModels.create(backbone, 0); // only for flopsPerDoc: nothing is loaded
        return new RemoteInfluenceModel(stage, backbone, modelKey, flops);
    }

    /** The stage's influence model, fitted and held by the InfluenceModel service. */
    final class RemoteInfluenceModel implements InfluenceModel {
        final Stage stage;
        final String backbone;
        final String modelKey;
        final InfluenceModel flops;

        RemoteInfluenceModel(Stage stage, String backbone, String modelKey, InfluenceModel flops) {
            this.stage = stage;
            this.backbone = backbone;
            this.modelKey = modelKey;
            this.flops = flops;
        }

        @Override
        public String backbone() {
            return backbone;
        }

        /** The Pipeline stored the labels (oracle.jsonl) before this call; the service fits on that object. */
        @Override
        public FitReport fit(List<Document> docs, double[] influence, long seed) {
            String labels = StorageLayout.labelsKey(stage.run(), stage.arm(), stage.stage());
            if (!store.exists(labels)) store.put(labels, RunArtifacts.labelsToJsonl(docs, influence));
            FitRequest req = FitRequest.newBuilder().setRunId(stage.run()).setLabelsRef(labels).setBackbone(backbone)
                    .setSeed(seed).setModelRef(modelKey).build();
            // Fitting is deterministic under the seed and writes one key: a repeated fit is the same fit.
            FitResponse r = rpc.call("fitting the influence model of stage " + stage.stage(), () -> InfluenceModelGrpc
                    .newBlockingStub(RemoteRoles.this.influence).withDeadline(deadlines.forFit()).fit(req),
                    RemoteRoles::retryable, listener::cancelled);
            return Protos.fromProto(r.getMetrics());
        }

        @Override
        public double[] predict(List<Document> docs) {
            PredictRequest.Builder b = PredictRequest.newBuilder().setModelRef(modelKey).setBackbone(backbone);
            docs.forEach(d -> b.addDocuments(Protos.toProto(d)));
            PredictRequest req = b.build();
            return rpc.call("predicting " + docs.size() + " documents", () -> InfluenceModelGrpc
                    .newBlockingStub(RemoteRoles.this.influence).withDeadline(deadlines.forPredict()).predict(req),
                    RemoteRoles::retryable, listener::cancelled).getScoresList().stream().mapToDouble(Double::doubleValue).toArray();
        }

        @Override
        public byte[] save() {
            return RunArtifacts.require(store, modelKey);
        }

        @Override
        public double flopsPerDoc(int tokens) {
            return flops.flopsPerDoc(tokens);
        }
    }

    @Override
    public Scorer scorer(InfluenceModel model, Stage stage) {
        if (!(model instanceof RemoteInfluenceModel m)) {
            throw new IllegalArgumentException("the distributed scorer needs the stage's stored model, got " + model.getClass().getName());
        }
        return pool -> new QueueScoring(store, queue, keyPrefix, stage, m.modelKey, m.backbone, shardSize,
                scoreTimeoutMillis, lostCheckMillis, listener).score(pool);
    }
}
