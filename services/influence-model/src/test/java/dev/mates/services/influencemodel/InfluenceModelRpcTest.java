package dev.mates.services.influencemodel;

import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.*;

import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.data.Document;
import dev.mates.engine.influence.FitReport;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.proto.v1.FitRequest;
import dev.mates.proto.v1.FitResponse;
import dev.mates.proto.v1.InfluenceModelGrpc;
import dev.mates.proto.v1.PredictRequest;
import dev.mates.services.common.Protos;
import dev.mates.services.testing.RealStoresResource;
import dev.mates.services.testing.ServiceTestSupport;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Fit and Predict through a real gRPC client, on labels and models in the real S3 server. */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class InfluenceModelRpcTest {
    static final String[] GOOD = {"the committee agreed on the report", "we support the proposal of the commission",
        "the parliament voted on the directive", "member states must apply the rules"};

    ManagedChannel channel;
    S3ObjectStore s3;

    @BeforeEach
    void connect() {
        channel = ServiceTestSupport.channel();
        s3 = ServiceTestSupport.objectStore();
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        s3.close();
    }

    InfluenceModelGrpc.InfluenceModelBlockingStub stub() {
        return InfluenceModelGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    static String newRun(String what) {
        return what + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Parliament phrases lower the reference loss (negative influence), letter noise raises it: learnable. */
    static List<Document> documents(SplittableRandom r, int n, String prefix, double[] influenceOut) {
        List<Document> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean good = r.nextBoolean();
            String text;
            if (good) {
                text = GOOD[r.nextInt(GOOD.length)] + " and " + GOOD[r.nextInt(GOOD.length)];
            } else {
                StringBuilder sb = new StringBuilder();
                for (int c = 0; c < 30; c++) sb.append(c % 6 == 5 ? ' ' : (char) ('a' + r.nextInt(26)));
                text = sb.toString();
            }
            docs.add(new Document(prefix + i, text));
            if (influenceOut != null) influenceOut[i] = (good ? -1.0 : 1.0) + 0.2 * r.nextGaussian();
        }
        return docs;
    }

    static FitRequest fit(String run, String labelsRef, String backbone, long seed, String modelRef) {
        return FitRequest.newBuilder().setRunId(run).setLabelsRef(labelsRef).setBackbone(backbone).setSeed(seed)
                .setModelRef(modelRef).build();
    }

    static PredictRequest predict(String modelRef, String backbone, List<Document> docs) {
        return PredictRequest.newBuilder().setModelRef(modelRef).setBackbone(backbone)
                .addAllDocuments(docs.stream().map(Protos::toProto).toList()).build();
    }

    /** Writes {@code n} labels of the learnable pattern; returns them. */
    RunArtifacts.Labels writeLabels(String key, int n, long seed) {
        double[] y = new double[n];
        List<Document> docs = documents(new SplittableRandom(seed), n, "x", y);
        s3.put(key, RunArtifacts.labelsToJsonl(docs, y));
        return new RunArtifacts.Labels(docs, y);
    }

    @Test
    void fitWritesTheModelTheEngineFitsAndPredictMatchesIt() {
        String run = newRun("fit");
        String labelsKey = StorageLayout.labelsKey(run, "mates", 1);
        String modelKey = StorageLayout.modelKey(run, "mates", 1, "ngram");
        RunArtifacts.Labels labels = writeLabels(labelsKey, 120, 21);

        FitResponse r = stub().fit(fit(run, s3.ref(labelsKey), "ngram", 7, s3.ref(modelKey)));
        assertEquals(s3.ref(modelKey), r.getModelRef());
        byte[] stored = s3.get(modelKey).orElseThrow(() -> new AssertionError("no model at " + modelKey));

        // The same fit, in this JVM with the engine: the same bytes and the same report.
        InfluenceModel local = InfluenceModels.create("ngram", 7);
        FitReport expected = local.fit(labels.docs(), labels.influence(), 7);
        assertArrayEquals(local.save(), stored, "the stored model is the engine's fit");
        FitReport got = Protos.fromProto(r.getMetrics());
        assertEquals("ngram", got.backbone());
        assertEquals(120, got.trainSize() + got.tuneSize() + got.valSize());
        assertEquals(expected.trainSize(), got.trainSize());
        assertEquals(expected.tuneSize(), got.tuneSize());
        assertEquals(expected.bestEpoch(), got.bestEpoch());
        assertEquals(expected.valSpearman(), got.valSpearman(), 0.0);
        assertEquals(expected.valPearson(), got.valPearson(), 0.0);
        // Within each class the labels are noise, so a small validation split ranks only roughly.
        assertTrue(got.valSpearman() > 0, "the pattern is learnable: val Spearman " + got.valSpearman());
        assertTrue(got.seconds() >= 0);

        // Predict: the engine model loaded from the stored bytes, bit for bit; by reference and by key.
        InfluenceModel loaded = InfluenceModels.load("ngram", stored);
        List<Document> fresh = documents(new SplittableRandom(99), 30, "p", null);
        double[] want = loaded.predict(fresh);
        double[] byRef = stub().predict(predict(r.getModelRef(), "ngram", fresh)).getScoresList().stream().mapToDouble(Double::doubleValue).toArray();
        double[] byKey = stub().predict(predict(modelKey, "ngram", fresh)).getScoresList().stream().mapToDouble(Double::doubleValue).toArray();
        assertArrayEquals(want, byRef, 0.0);
        assertArrayEquals(want, byKey, 0.0);
        // Learned: noise scores above parliament text on average.
        double good = 0, bad = 0;
        int ng = 0;
        for (int i = 0; i < fresh.size(); i++) {
            if (fresh.get(i).text().contains(" the ")) { good += want[i]; ng++; } else bad += want[i];
        }
        assertTrue(good / ng < bad / (fresh.size() - ng), "helpful documents must score lower");

        ServiceTestSupport.management().get("/q/metrics").then().statusCode(200)
                .body(containsString("mates_influence_fit_seconds_count{backbone=\"ngram\""))
                .body(containsString("mates_influence_fit_labels_total"))
                .body(containsString("mates_influence_predicted_documents_total"));
    }

    @Test
    void aRefitToTheSameModelRefIsWhatPredictUses() {
        String run = newRun("refit");
        String labelsKey = StorageLayout.labelsKey(run, "mates", 0);
        String modelKey = StorageLayout.modelKey(run, "mates", 0, "ngram");
        writeLabels(labelsKey, 48, 1);
        stub().fit(fit(run, labelsKey, "ngram", 1, modelKey));
        List<Document> docs = documents(new SplittableRandom(5), 10, "p", null);
        stub().predict(predict(modelKey, "ngram", docs)); // cached now
        writeLabels(labelsKey, 48, 2);
        stub().fit(fit(run, labelsKey, "ngram", 2, modelKey));
        double[] want = InfluenceModels.load("ngram", s3.get(modelKey).orElseThrow()).predict(docs);
        double[] got = stub().predict(predict(modelKey, "ngram", docs)).getScoresList().stream().mapToDouble(Double::doubleValue).toArray();
        assertArrayEquals(want, got, 0.0, "Predict must use the model now stored at model_ref, not a stale cached one");
    }

    @Test
    void missingObjectsAreNotFound() {
        String run = newRun("missing");
        String labelsKey = StorageLayout.labelsKey(run, "mates", 0);
        StatusRuntimeException e = assertStatus(Status.Code.NOT_FOUND, labelsKey,
                () -> stub().fit(fit(run, labelsKey, "ngram", 1, StorageLayout.modelKey(run, "mates", 0, "ngram"))));
        String modelKey = StorageLayout.modelKey(run, "mates", 0, "ngram");
        assertStatus(Status.Code.NOT_FOUND, modelKey,
                () -> stub().predict(predict(s3.ref(modelKey), "ngram", documents(new SplittableRandom(1), 3, "d", null))));
        assertFalse(s3.exists(modelKey), "a failed fit writes no model");
        assertNotNull(e);
    }

    @Test
    void badRequestsAreInvalidArgumentNamingTheField() {
        String run = newRun("bad");
        String labelsKey = StorageLayout.labelsKey(run, "mates", 0);
        String modelKey = StorageLayout.modelKey(run, "mates", 0, "ngram");
        writeLabels(labelsKey, 40, 3);
        assertField(Status.Code.INVALID_ARGUMENT, "backbone", () -> stub().fit(fit(run, labelsKey, "bert-huge", 1, modelKey)));
        assertField(Status.Code.INVALID_ARGUMENT, "backbone", () -> stub().fit(fit(run, labelsKey, "", 1, modelKey)));
        assertField(Status.Code.INVALID_ARGUMENT, "labels_ref", () -> stub().fit(fit(run, "", "ngram", 1, modelKey)));
        assertField(Status.Code.INVALID_ARGUMENT, "model_ref", () -> stub().fit(fit(run, labelsKey, "ngram", 1, "")));
        assertField(Status.Code.INVALID_ARGUMENT, "model_ref",
                () -> stub().fit(fit(run, labelsKey, "ngram", 1, "s3://another-bucket/" + modelKey)));
        assertField(Status.Code.INVALID_ARGUMENT, "labels_ref",
                () -> stub().fit(fit(run, "s3://another-bucket/" + labelsKey, "ngram", 1, modelKey)));
        assertFalse(s3.exists(modelKey));
        // Another run's objects: neither read nor overwritten (e.g. its report), and the bucket is not a prefix.
        String otherReport = StorageLayout.reportKey(run + "-other");
        s3.put(otherReport, "{}".getBytes(StandardCharsets.UTF_8));
        assertStatus(Status.Code.PERMISSION_DENIED, "outside this run's objects", () -> stub().fit(fit(run, labelsKey, "ngram", 1, otherReport)));
        assertStatus(Status.Code.PERMISSION_DENIED, "outside this run's objects",
                () -> stub().fit(fit(run, StorageLayout.labelsKey(run + "-other", "mates", 0), "ngram", 1, modelKey)));
        assertStatus(Status.Code.INVALID_ARGUMENT, "'..'", () -> stub().fit(fit(run, labelsKey, "ngram", 1,
                "runs/" + run + "/../" + run + "-other/report.json")));
        assertStatus(Status.Code.PERMISSION_DENIED, "not a run's object", () -> stub().predict(predict("data/model.bin", "ngram",
                documents(new SplittableRandom(2), 3, "d", null))));
        assertEquals("{}", new String(s3.get(otherReport).orElseThrow(), StandardCharsets.UTF_8), "the other run's report is untouched");
        // An object above mates.object-store.max-object-bytes (4 MiB in tests) is refused before it is read.
        String huge = StorageLayout.labelsKey(run, "mates", 9);
        s3.put(huge, new byte[5 << 20]);
        assertStatus(Status.Code.RESOURCE_EXHAUSTED, "mates.object-store.max-object-bytes", () -> stub().fit(fit(run, huge, "ngram", 1, modelKey)));
        assertFalse(s3.exists(modelKey));

        String few = StorageLayout.labelsKey(run, "mates", 1);
        writeLabels(few, 3, 4);
        assertField(Status.Code.INVALID_ARGUMENT, "labels_ref", () -> stub().fit(fit(run, few, "ngram", 1, modelKey)));
        String empty = StorageLayout.labelsKey(run, "mates", 2);
        s3.put(empty, new byte[0]);
        assertField(Status.Code.INVALID_ARGUMENT, "labels_ref", () -> stub().fit(fit(run, empty, "ngram", 1, modelKey)));
        String corrupt = StorageLayout.labelsKey(run, "mates", 3);
        s3.put(corrupt, "{\"id\":\"a\",\"text\":\"t\",\"influence\":\"high\"}\n".getBytes(StandardCharsets.UTF_8));
        assertStatus(Status.Code.INVALID_ARGUMENT, corrupt, () -> stub().fit(fit(run, corrupt, "ngram", 1, modelKey)));
        assertFalse(s3.exists(modelKey), "no model is written by a rejected fit");

        // Predict.
        writeLabels(labelsKey, 40, 3);
        stub().fit(fit(run, labelsKey, "ngram", 1, modelKey));
        List<Document> docs = documents(new SplittableRandom(2), 3, "d", null);
        assertField(Status.Code.INVALID_ARGUMENT, "backbone", () -> stub().predict(predict(modelKey, "bert-huge", docs)));
        assertField(Status.Code.INVALID_ARGUMENT, "documents", () -> stub().predict(predict(modelKey, "ngram", List.of())));
        List<Document> dup = List.of(docs.get(0), docs.get(0));
        assertField(Status.Code.INVALID_ARGUMENT, "documents[1].id", () -> stub().predict(predict(modelKey, "ngram", dup)));
        assertField(Status.Code.INVALID_ARGUMENT, "model_ref",
                () -> stub().predict(predict("s3://another-bucket/" + modelKey, "ngram", docs)));
        int max = ConfigProvider.getConfig().getValue("mates.limits.max-documents", Integer.class);
        List<Document> many = documents(new SplittableRandom(3), max + 1, "m", null);
        assertField(Status.Code.RESOURCE_EXHAUSTED, "documents", () -> stub().predict(predict(modelKey, "ngram", many)));
    }

    static StatusRuntimeException assertStatus(Status.Code code, String inDescription, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus()));
        String d = e.getStatus().getDescription();
        assertNotNull(d, "a status description is required");
        assertTrue(d.contains(inDescription), "'" + d + "' should name " + inDescription);
        return e;
    }

    static void assertField(Status.Code code, String field, Runnable call) {
        StatusRuntimeException e = assertStatus(code, field, call);
        assertTrue(e.getStatus().getDescription().startsWith(field + ": "), e.getStatus().getDescription());
    }
}
