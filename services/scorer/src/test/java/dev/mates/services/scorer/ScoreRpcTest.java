package dev.mates.services.scorer;

import static dev.mates.services.scorer.ScorerFixtures.*;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.*;

import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.services.common.Protos;
import dev.mates.services.testing.RealStoresResource;
import dev.mates.services.testing.ServiceTestSupport;
import dev.mates.proto.v1.ScoreRequest;
import dev.mates.proto.v1.ScoreResponse;
import dev.mates.proto.v1.ScorerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The online Score RPC through a real gRPC client, against a model in the real S3 server. */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class ScoreRpcTest {
    ManagedChannel channel;
    ScorerGrpc.ScorerBlockingStub scorer;
    S3ObjectStore s3;

    @BeforeEach
    void connect() {
        channel = ServiceTestSupport.channel();
        scorer = ScorerGrpc.newBlockingStub(channel);
        s3 = ServiceTestSupport.objectStore();
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        s3.close();
    }

    private ScorerGrpc.ScorerBlockingStub stub() {
        return scorer.withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static ScoreRequest request(String modelRef, String backbone, List<Document> docs) {
        return ScoreRequest.newBuilder().setModelRef(modelRef).setBackbone(backbone)
                .addAllDocuments(docs.stream().map(Protos::toProto).toList()).build();
    }

    private static double[] scores(ScoreResponse r) {
        return r.getScoresList().stream().mapToDouble(Double::doubleValue).toArray();
    }

    @Test
    void scoresEqualTheEngineModelsPredictions() {
        String run = newRun("score");
        String key = modelKey(run);
        InfluenceModel fitted = fitAndStore(s3, key, 3);
        InfluenceModel loaded = InfluenceModels.load("ngram", s3.get(key).orElseThrow());
        List<Document> docs = documents(new SplittableRandom(42), 25, "d");
        double[] expected = fitted.predict(docs);
        assertArrayEquals(expected, loaded.predict(docs), 0.0, "a stored model predicts as the fitted one");
        assertTrue(java.util.Arrays.stream(expected).distinct().count() > 1, "scores must not be constant");

        // By reference to this deployment's bucket, and by bare key.
        ScoreResponse byRef = stub().score(request(s3.ref(key), "ngram", docs));
        assertArrayEquals(expected, scores(byRef), 0.0);
        assertTrue(byRef.getBatchSize() >= docs.size(), "batch_size " + byRef.getBatchSize());
        ScoreResponse byKey = stub().score(request(key, "ngram", docs.subList(0, 3)));
        assertArrayEquals(java.util.Arrays.copyOf(expected, 3), scores(byKey), 0.0);

        // The online batch-size summary exists once the batcher has run.
        ServiceTestSupport.management().get("/q/metrics").then().statusCode(200).body(containsString("mates_scorer_online_batch_size"))
                .body(containsString("mates_scorer_online_documents_total"));
    }

    @Test
    void concurrentCallersAreBatchedTogetherAndEachGetsItsOwnScores() throws Exception {
        String run = newRun("batch");
        String key = modelKey(run);
        InfluenceModel fitted = fitAndStore(s3, key, 5);
        int threads = 8;
        int maxBatch = ConfigProvider.getConfig().getValue("mates.scorer.max-batch", Integer.class);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            boolean batched = false;
            // Batching depends on arrival times: repeat rounds until one shows it (it does in the first, as a rule).
            for (int round = 0; round < 20 && !batched; round++) {
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<int[]>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int size = 1 + t; // different sizes, so a mix-up of slices would show
                    List<Document> docs = documents(new SplittableRandom(1000L * round + t), size, "r" + round + "t" + t + "-");
                    double[] expected = fitted.predict(docs);
                    results.add(pool.submit(() -> {
                        start.await(30, TimeUnit.SECONDS);
                        ScoreResponse r = stub().score(request(key, "ngram", docs));
                        assertArrayEquals(expected, scores(r), 0.0, "scores of the caller with " + size + " documents");
                        return new int[] {size, r.getBatchSize()};
                    }));
                }
                for (Future<int[]> f : results) {
                    int[] sizes = f.get(60, TimeUnit.SECONDS);
                    assertTrue(sizes[1] >= sizes[0], "batch_size " + sizes[1] + " < request size " + sizes[0]);
                    assertTrue(sizes[1] <= Math.max(maxBatch, sizes[0]), "batch_size " + sizes[1] + " > max-batch " + maxBatch);
                    if (sizes[1] > sizes[0]) batched = true;
                }
            }
            assertTrue(batched, "no response reported a batch larger than its own request in 20 rounds of " + threads + " concurrent calls");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badRequestsAreInvalidArgumentNamingTheField() {
        String run = newRun("bad");
        String key = modelKey(run);
        fitAndStore(s3, key, 7);
        List<Document> docs = documents(new SplittableRandom(1), 3, "d");

        assertField(Status.Code.INVALID_ARGUMENT, "documents", () -> stub().score(request(key, "ngram", List.of())));
        List<Document> dup = List.of(docs.get(0), docs.get(1), new Document(docs.get(0).id(), "other text"));
        assertField(Status.Code.INVALID_ARGUMENT, "documents[2].id", () -> stub().score(request(key, "ngram", dup)));
        List<Document> noId = List.of(docs.get(0), new Document("", "text"));
        assertField(Status.Code.INVALID_ARGUMENT, "documents[1].id", () -> stub().score(request(key, "ngram", noId)));
        assertField(Status.Code.INVALID_ARGUMENT, "backbone", () -> stub().score(request(key, "bert-huge", docs)));
        assertField(Status.Code.INVALID_ARGUMENT, "backbone", () -> stub().score(request(key, "", docs)));
        assertField(Status.Code.INVALID_ARGUMENT, "model_ref", () -> stub().score(request("s3://another-bucket/" + key, "ngram", docs)));
        assertField(Status.Code.INVALID_ARGUMENT, "model_ref", () -> stub().score(request("", "ngram", docs)));
        assertField(Status.Code.INVALID_ARGUMENT, "model_ref", () -> stub().score(request("https://example.com/" + key, "ngram", docs)));
    }

    @Test
    void missingModelIsNotFoundAndTooManyDocumentsIsResourceExhausted() {
        List<Document> docs = documents(new SplittableRandom(2), 3, "d");
        String missing = modelKey(newRun("missing"));
        StatusRuntimeException e = assertStatus(Status.Code.NOT_FOUND, missing, () -> stub().score(request(missing, "ngram", docs)));
        assertTrue(e.getStatus().getDescription().contains("not found"), e.getStatus().getDescription());

        String key = modelKey(newRun("limit"));
        fitAndStore(s3, key, 9);
        int max = ConfigProvider.getConfig().getValue("mates.limits.max-documents", Integer.class);
        List<Document> many = documents(new SplittableRandom(3), max + 1, "m");
        assertField(Status.Code.RESOURCE_EXHAUSTED, "documents", () -> stub().score(request(key, "ngram", many)));
        // Exactly at the limit is accepted.
        assertEquals(max, stub().score(request(key, "ngram", many.subList(0, max))).getScoresCount());
    }

    static StatusRuntimeException assertStatus(Status.Code code, String inDescription, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus()));
        String d = e.getStatus().getDescription();
        assertNotNull(d, "a status description is required");
        assertTrue(d.contains(inDescription), "'" + d + "' should name " + inDescription);
        return e;
    }

    /** The call fails with {@code code} and a description that starts with the offending field's name. */
    static void assertField(Status.Code code, String field, Runnable call) {
        StatusRuntimeException e = assertStatus(code, field, call);
        assertTrue(e.getStatus().getDescription().startsWith(field + ": "), e.getStatus().getDescription());
    }
}
