package dev.mates.services.oracleprober;

import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.*;

import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.data.ByteBpeTokenizer;
import dev.mates.engine.data.Document;
import dev.mates.engine.oracle.ExactOracle;
import dev.mates.engine.oracle.FirstOrderOracle;
import dev.mates.engine.oracle.OracleMethod;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.oracle.ReferenceSet;
import dev.mates.engine.pipeline.EmbeddedRoles;
import dev.mates.engine.util.Listener;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.train.Checkpoint;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.proto.v1.OracleProberGrpc;
import dev.mates.proto.v1.ProbeRequest;
import dev.mates.proto.v1.ProbeResult;
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
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Probe through a real gRPC client, on a tiny run written to the real S3 server: the streamed influences equal, bit
 * for bit, the oracle run in this JVM on the trainer that wrote the checkpoint (distributed = embedded).
 */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class ProbeRpcTest {
    static final String[] EN = {"the committee agreed on the report", "we support the proposal of the commission",
        "the parliament voted on the directive", "member states must apply the rules",
        "the council adopted its position on the budget", "we must protect the rights of citizens"};

    /** A tiny run: what the trainer writes, and what the embedded oracle measured on its live trainer. */
    record TinyRun(String run, RunConfig cfg, List<Document> probes, String ckptA, String ckptB,
                   double[] exactA, double[] exactB, double[] firstOrderB, double[] directionalB) {}

    static TinyRun tiny;

    ManagedChannel channel;
    S3ObjectStore s3;

    @BeforeEach
    void connect() {
        channel = ServiceTestSupport.channel();
        s3 = ServiceTestSupport.objectStore();
        if (tiny == null) tiny = buildTinyRun(s3);
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        s3.close();
    }

    @AfterAll
    static void forget() {
        tiny = null;
    }

    static String letters(SplittableRandom r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append(i % 6 == 5 ? ' ' : (char) ('a' + r.nextInt(26)));
        return sb.toString();
    }

    /**
     * Trains a tokenizer and a few steps of the tiny GPT in this JVM, writes config, tokenizer, reference and two
     * checkpoints as the trainer does, and measures the expected influences with the engine's oracles on the live
     * trainer. The local trainer is closed before any Probe call: the service's trainer lives in the same JVM.
     */
    static TinyRun buildTinyRun(S3ObjectStore s3) {
        String run = "probe-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, String> o = new LinkedHashMap<>();
        o.put("seed", "3");
        o.put("model.context", "32");
        o.put("tokenizer.vocab", "300");
        o.put("train.lr_warmup_steps", "2");
        o.put("oracle.eval_batch", "4");
        RunConfig cfg = RunConfig.load(null, false, o);
        SplittableRandom r = new SplittableRandom(7);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 60; i++) texts.add(EN[r.nextInt(EN.length)] + " and " + EN[r.nextInt(EN.length)]);
        ByteBpeTokenizer tok = ByteBpeTokenizer.train(texts, cfg.getInt("tokenizer.vocab"));
        List<Document> reference = new ArrayList<>();
        for (int i = 0; i < 4; i++) reference.add(new Document("ref" + i, EN[i]));
        List<Document> probes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            probes.add(new Document("p" + i, i % 2 == 0 ? EN[r.nextInt(EN.length)] + " and " + EN[r.nextInt(EN.length)] : letters(r, 24)));
        }
        s3.put(StorageLayout.configKey(run), RunArtifacts.configBytes(cfg));
        s3.put(StorageLayout.tokenizerKey(run), tok.toBytes());
        s3.put(StorageLayout.referenceKey(run), RunArtifacts.documentsToJsonl(reference));

        int context = cfg.getInt("model.context");
        int evalBatch = cfg.getInt("oracle.eval_batch");
        TokenBatch ref = ReferenceSet.batch(reference, tok, context);
        EmbeddedRoles roles = new EmbeddedRoles(cfg, tok, Listener.QUIET);
        String ckptA, ckptB;
        double[] exactA, exactB, firstOrderB;
        double[] directionalB = new double[probes.size()];
        try (Trainer trainer = roles.trainer()) {
            for (int s = 0; s < 3; s++) trainer.trainStep(ReferenceSet.batch(documents(texts, 4 * s, 4), tok, context));
            Checkpoint a = trainer.checkpoint();
            ckptA = StorageLayout.checkpointKey(run, "mates", a.step());
            RunArtifacts.writeCheckpoint(s3, ckptA, a);
            exactA = new ExactOracle(trainer, ref, tok, evalBatch, Listener.QUIET).probe(probes);
            for (int s = 3; s < 6; s++) trainer.trainStep(ReferenceSet.batch(documents(texts, 4 * s, 4), tok, context));
            Checkpoint b = trainer.checkpoint();
            ckptB = StorageLayout.checkpointKey(run, "mates", b.step());
            RunArtifacts.writeCheckpoint(s3, ckptB, b);
            exactB = roles.oracle(trainer, ref, OracleMethod.EXACT, null).probe(probes);
            try (FirstOrderOracle f = new FirstOrderOracle(trainer, ref, tok, evalBatch, Listener.QUIET)) {
                firstOrderB = f.probe(probes);
            }
            // The service answers in chunks of mates.oracle.stream-chunk, one oracle per request: the same here.
            int chunk = ConfigProvider.getConfig().getValue("mates.oracle.stream-chunk", Integer.class);
            try (OracleProber d = roles.oracle(trainer, ref, OracleMethod.DIRECTIONAL, null)) {
                for (int from = 0; from < probes.size(); from += chunk) {
                    double[] part = d.probe(probes.subList(from, Math.min(probes.size(), from + chunk)));
                    System.arraycopy(part, 0, directionalB, from, part.length);
                }
            }
        }
        return new TinyRun(run, cfg, probes, ckptA, ckptB, exactA, exactB, firstOrderB, directionalB);
    }

    static List<Document> documents(List<String> texts, int from, int n) {
        List<Document> d = new ArrayList<>();
        for (int i = 0; i < n; i++) d.add(new Document("t" + (from + i), texts.get((from + i) % texts.size())));
        return d;
    }

    ProbeRequest.Builder request(String checkpointKey, String method, List<Document> docs) {
        return ProbeRequest.newBuilder().setRunId(tiny.run())
                .setConfigRef(s3.ref(StorageLayout.configKey(tiny.run())))
                .setTokenizerRef(s3.ref(StorageLayout.tokenizerKey(tiny.run())))
                .setReferenceRef(s3.ref(StorageLayout.referenceKey(tiny.run())))
                .setCheckpointRef(s3.ref(checkpointKey)).setMethod(method)
                .addAllDocuments(docs.stream().map(Protos::toProto).toList());
    }

    List<ProbeResult> probe(ProbeRequest request) {
        List<ProbeResult> out = new ArrayList<>();
        Iterator<ProbeResult> it = OracleProberGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).probe(request);
        it.forEachRemaining(out::add);
        return out;
    }

    static void assertResults(List<Document> docs, double[] expected, List<ProbeResult> got) {
        assertEquals(docs.size(), got.size(), "one result per document");
        for (int i = 0; i < docs.size(); i++) {
            assertEquals(i, got.get(i).getIndex(), "results in request order");
            assertEquals(docs.get(i).id(), got.get(i).getDocumentId());
            // Bit for bit: the same engine code on the same state.
            assertEquals(Double.doubleToLongBits(expected[i]), Double.doubleToLongBits(got.get(i).getInfluence()),
                    "probe " + i + ": expected " + expected[i] + ", got " + got.get(i).getInfluence());
        }
    }

    @Test
    void exactProbesEqualTheEmbeddedOracleBitForBit() {
        assertTrue(java.util.Arrays.stream(tiny.exactA()).anyMatch(x -> x != 0), "influences must not all be zero");
        // More documents than mates.oracle.stream-chunk: results arrive in several chunks.
        int chunk = ConfigProvider.getConfig().getValue("mates.oracle.stream-chunk", Integer.class);
        assertTrue(tiny.probes().size() > chunk);
        assertResults(tiny.probes(), tiny.exactA(), probe(request(tiny.ckptA(), "exact", tiny.probes()).build()));
        // Another checkpoint of the same run, then the first again (the method defaults to exact).
        assertResults(tiny.probes(), tiny.exactB(), probe(request(tiny.ckptB(), "exact", tiny.probes()).build()));
        assertResults(tiny.probes(), tiny.exactA(), probe(request(tiny.ckptA(), "", tiny.probes()).build()));
        // A checkpoint reference without the trailing slash, by bare key; a subset keeps its own indices.
        String bare = tiny.ckptB().substring(0, tiny.ckptB().length() - 1);
        List<Document> sub = tiny.probes().subList(3, 6);
        assertResults(sub, java.util.Arrays.copyOfRange(tiny.exactB(), 3, 6),
                probe(request(tiny.ckptB(), "exact", sub).setCheckpointRef(bare).build()));

        ServiceTestSupport.management().get("/q/metrics").then().statusCode(200)
                .body(containsString("mates_oracle_probes_total{method=\"exact\""))
                .body(containsString("mates_oracle_probe_seconds_count{method=\"exact\""))
                .body(containsString("mates_oracle_checkpoint_loads_total"));
    }

    @Test
    void firstOrderProbesEqualTheEmbeddedOracleBitForBit() {
        assertResults(tiny.probes(), tiny.firstOrderB(), probe(request(tiny.ckptB(), "first-order", tiny.probes()).build()));
        // Restoring another checkpoint right after first-order probes (their gradients are recorded on the weights).
        List<Document> few = tiny.probes().subList(0, 2);
        assertResults(few, java.util.Arrays.copyOf(tiny.exactA(), 2), probe(request(tiny.ckptA(), "exact", few).build()));
        ServiceTestSupport.management().get("/q/metrics").then().statusCode(200).body(containsString("mates_oracle_probes_total{method=\"first-order\""));
    }

    @Test
    void directionalProbesEqualTheEmbeddedOracleBitForBit() {
        assertResults(tiny.probes(), tiny.directionalB(), probe(request(tiny.ckptB(), "directional", tiny.probes()).build()));
        ServiceTestSupport.management().get("/q/metrics").then().statusCode(200).body(containsString("mates_oracle_probes_total{method=\"directional\""));
    }

    @Test
    void badRequestsAreInvalidArgumentNamingTheField() {
        List<Document> docs = tiny.probes().subList(0, 2);
        assertField(Status.Code.INVALID_ARGUMENT, "method", () -> probe(request(tiny.ckptA(), "second-order", docs).build()));
        assertField(Status.Code.INVALID_ARGUMENT, "documents", () -> probe(request(tiny.ckptA(), "exact", List.of()).build()));
        List<Document> dup = List.of(docs.get(0), docs.get(0));
        assertField(Status.Code.INVALID_ARGUMENT, "documents[1].id", () -> probe(request(tiny.ckptA(), "exact", dup).build()));
        assertField(Status.Code.INVALID_ARGUMENT, "checkpoint_ref",
                () -> probe(request(tiny.ckptA(), "exact", docs).setCheckpointRef("s3://another-bucket/" + tiny.ckptA()).build()));
        assertField(Status.Code.INVALID_ARGUMENT, "config_ref", () -> probe(request(tiny.ckptA(), "exact", docs).setConfigRef("").build()));
        int max = ConfigProvider.getConfig().getValue("mates.limits.max-documents", Integer.class);
        List<Document> many = new ArrayList<>();
        for (int i = 0; i <= max; i++) many.add(new Document("m" + i, "text " + i));
        assertField(Status.Code.RESOURCE_EXHAUSTED, "documents", () -> probe(request(tiny.ckptA(), "exact", many).build()));
    }

    @Test
    void missingObjectsAreNotFound() {
        List<Document> docs = tiny.probes().subList(0, 2);
        String missing = StorageLayout.checkpointKey(tiny.run(), "mates", 999);
        assertStatus(Status.Code.NOT_FOUND, missing, () -> probe(request(missing, "exact", docs).build()));
        String noConfig = "runs/" + tiny.run() + "/no-such-config.json";
        assertStatus(Status.Code.NOT_FOUND, noConfig, () -> probe(request(tiny.ckptA(), "exact", docs).setConfigRef(noConfig).build()));
        // Another run's objects are out of reach, whether they exist or not.
        String otherRun = StorageLayout.configKey("no-such-run");
        assertStatus(Status.Code.PERMISSION_DENIED, "outside this run's objects",
                () -> probe(request(tiny.ckptA(), "exact", docs).setConfigRef(otherRun).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "'..'", () -> probe(request(tiny.ckptA(), "exact", docs)
                .setConfigRef("runs/" + tiny.run() + "/../no-such-run/config.json").build()));
        // Still serving the real checkpoint correctly afterwards.
        assertResults(docs, java.util.Arrays.copyOf(tiny.exactA(), 2), probe(request(tiny.ckptA(), "exact", docs).build()));
    }

    @Test
    void aFailedLoadNeverLeavesAMixedStateBehind() {
        List<Document> docs = tiny.probes().subList(0, 3);
        assertResults(docs, java.util.Arrays.copyOf(tiny.exactA(), 3), probe(request(tiny.ckptA(), "exact", docs).build()));

        // A checkpoint of the right shape whose optimizer lacks a tensor: the restore fails part-way through.
        Checkpoint b = RunArtifacts.readCheckpoint(s3, tiny.ckptB());
        Map<String, float[]> m = new LinkedHashMap<>(b.adamM());
        m.remove(m.keySet().stream().reduce((x, y) -> y).orElseThrow());
        String broken = StorageLayout.checkpointKey(tiny.run(), "broken", b.step());
        RunArtifacts.writeCheckpoint(s3, broken, new Checkpoint(b.config(), b.step(), 0, b.weights(), m, b.adamV()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "missing", () -> probe(request(broken, "exact", docs).build()));
        assertResults(docs, java.util.Arrays.copyOf(tiny.exactA(), 3), probe(request(tiny.ckptA(), "exact", docs).build()));

        // A config whose model cannot be built: the next call with the good config must rebuild, not use a stale one.
        Map<String, String> bad = new LinkedHashMap<>(tiny.cfg().asMap());
        bad.put("model.preset", "enormous");
        String badConfig = StorageLayout.runPrefix(tiny.run()) + "bad-config.json";
        s3.put(badConfig, RunArtifacts.json(bad));
        assertStatus(Status.Code.INVALID_ARGUMENT, "model.preset", () -> probe(request(tiny.ckptA(), "exact", docs).setConfigRef(badConfig).build()));
        assertResults(docs, java.util.Arrays.copyOf(tiny.exactA(), 3), probe(request(tiny.ckptA(), "exact", docs).build()));

        // A corrupt config object.
        String corrupt = StorageLayout.runPrefix(tiny.run()) + "corrupt-config.json";
        s3.put(corrupt, "{not json".getBytes(StandardCharsets.UTF_8));
        assertStatus(Status.Code.INVALID_ARGUMENT, corrupt, () -> probe(request(tiny.ckptA(), "exact", docs).setConfigRef(corrupt).build()));
        assertResults(docs, java.util.Arrays.copyOf(tiny.exactA(), 3), probe(request(tiny.ckptA(), "exact", docs).build()));
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
