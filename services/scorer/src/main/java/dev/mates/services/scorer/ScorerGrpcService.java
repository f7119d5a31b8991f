package dev.mates.services.scorer;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.proto.v1.QueueStatsRequest;
import dev.mates.proto.v1.QueueStatsResponse;
import dev.mates.proto.v1.ScoreRequest;
import dev.mates.proto.v1.ScoreResponse;
import dev.mates.proto.v1.ScorerGrpc;
import dev.mates.services.common.GrpcErrors;
import dev.mates.services.common.Limits;
import dev.mates.services.common.MatesStores;
import dev.mates.services.common.Protos;
import dev.mates.services.common.Refs;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The Scorer gRPC service: online scoring with dynamic batching, and the queue's statistics. */
@GrpcService
public class ScorerGrpcService extends ScorerGrpc.ScorerImplBase {
    @Inject
    ScorerModels models;
    @Inject
    MatesStores stores;
    @Inject
    Limits limits;
    @Inject
    RedisShardQueue queue;
    @Inject
    ShardWorkers workers;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "mates.scorer.max-batch", defaultValue = "64")
    int maxBatch;
    @ConfigProperty(name = "mates.scorer.max-wait", defaultValue = "5ms")
    Duration maxWait;
    /** Documents that may wait for the model at a time; beyond, Score answers RESOURCE_EXHAUSTED. */
    @ConfigProperty(name = "mates.scorer.max-queued-documents", defaultValue = "8192")
    int maxQueuedDocs;

    private volatile DynamicBatcher batcher;

    private DynamicBatcher batcher() {
        DynamicBatcher b = batcher;
        if (b == null) {
            synchronized (this) {
                if (batcher == null) {
                    DistributionSummary sizes = DistributionSummary.builder("mates.scorer.online.batch.size")
                            .description("Documents per model batch of the online Score RPC").register(registry);
                    batcher = new DynamicBatcher(maxBatch, maxWait.toNanos(), maxQueuedDocs, sizes::record);
                }
                b = batcher;
            }
        }
        return b;
    }

    @Override
    @Blocking
    public void score(ScoreRequest request, StreamObserver<ScoreResponse> observer) {
        GrpcErrors.unary(observer, () -> {
            String key = Refs.anyRunKey("model_ref", request.getModelRef(), stores.bucket());
            List<Document> docs = Protos.documents(request.getDocumentsList(), limits.maxDocuments(), limits.maxDocumentChars());
            if (io.grpc.Context.current().isCancelled()) {
                throw io.grpc.Status.CANCELLED.withDescription("the call ended before its model was loaded").asRuntimeException();
            }
            InfluenceModel model = models.get(key, request.getBackbone());
            java.util.concurrent.CompletableFuture<DynamicBatcher.Result> pending = batcher().submit(request.getBackbone() + "@" + key, model, docs);
            // The caller's deadline or cancellation drops the request from the batcher's queue.
            io.grpc.Context ctx = io.grpc.Context.current();
            io.grpc.Context.CancellationListener onCancel = c -> pending.cancel(false);
            ctx.addListener(onCancel, Runnable::run);
            try {
                DynamicBatcher.Result r = pending.get();
                registry.counter("mates.scorer.online.documents").increment(docs.size());
                ScoreResponse.Builder b = ScoreResponse.newBuilder().setBatchSize(r.batchSize());
                for (double s : r.scores()) b.addScores(s);
                return b.build();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (java.util.concurrent.CancellationException e) {
                throw (ctx.getDeadline() != null && ctx.getDeadline().isExpired() ? io.grpc.Status.DEADLINE_EXCEEDED
                        : io.grpc.Status.CANCELLED).withDescription("the call ended before its documents were scored").asRuntimeException();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof DynamicBatcher.Overloaded o) throw GrpcErrors.exhausted("documents", o.getMessage());
                throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            } finally {
                ctx.removeListener(onCancel);
            }
        });
    }

    @Override
    @Blocking
    public void queueStats(QueueStatsRequest request, StreamObserver<QueueStatsResponse> observer) {
        GrpcErrors.unary(observer, () -> QueueStatsResponse.newBuilder().setStream(queue.stream()).setGroup(queue.group())
                .setLength(queue.length()).setPending(queue.pending()).setLag(queue.lag())
                .setDeadLetters(queue.deadLetters().size()).setCompletedHere(workers.completedHere()).build());
    }

    @PreDestroy
    void close() {
        if (batcher != null) batcher.close();
    }
}
