package dev.mates.services.trainer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.proto.v1.CancelRunRequest;
import dev.mates.proto.v1.GetRunRequest;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import dev.mates.proto.v1.TrainerGrpc;
import dev.mates.services.testing.RealStoresResource;
import dev.mates.services.testing.ServiceTestSupport;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The attack corpus against the trainer (docs/security.md): data it may not read, object keys that escape, config
 * values out of bounds, more runs than it may run. Each case gets its status and leaves no trace: no run is
 * created, nothing appears in the bucket under the run's prefix or in the trainer's work folder.
 */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class TrainerConfinementTest {
    ManagedChannel ch;
    TrainerGrpc.TrainerBlockingStub trainer;
    @Inject
    RunManager runs;
    @Inject
    InputFetcher inputs;

    @BeforeEach
    void connect() {
        ch = ServiceTestSupport.channel();
        trainer = TrainerGrpc.newBlockingStub(ch);
    }

    @AfterEach
    void close() {
        ch.shutdownNow();
    }

    static Path root() {
        return RealStoresResource.dataRoot();
    }

    /** Starting a run reading {@code spec} as its pool fails with {@code code} and leaves no trace. */
    void refused(Status.Code code, String spec, String expectInMessage) {
        String id = "attack-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> trainer.startRun(StartRunRequest.newBuilder()
                .setRunId(id).setQuick(true).addPool(spec).addReference(spec).build()));
        assertEquals(code, e.getStatus().getCode(), spec + ": " + e.getStatus());
        assertTrue(e.getStatus().getDescription().contains(expectInMessage), spec + ": " + e.getStatus().getDescription());
        StatusRuntimeException nf = assertThrows(StatusRuntimeException.class,
                () -> trainer.getRun(GetRunRequest.newBuilder().setRunId(id).build()));
        assertEquals(Status.Code.NOT_FOUND, nf.getStatus().getCode(), "no run was created for " + spec);
        try (S3ObjectStore s3 = ServiceTestSupport.objectStore()) {
            assertEquals(List.of(), s3.list("runs/" + id + "/"), "nothing in the bucket for " + spec);
        }
        assertFalse(Files.exists(runs.workDir().resolve(id)), "nothing in the work folder for " + spec);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "/etc/passwd | outside mates.trainer.data-roots",
        "/proc/self/environ | outside mates.trainer.data-roots",
        "relative/pool.jsonl | must be absolute",
        "s3://mates-test/runs/some-run/report.json | services' own area",
        "s3://mates-test/runs/ | services' own area",
    })
    void localAndBucketPathsOutsideTheAllowedPlacesArePermissionDenied(String spec, String message) {
        refused(Status.Code.PERMISSION_DENIED, spec, message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "s3://mates-test/ | whole bucket",
        "s3://mates-test | not in this deployment's bucket",
        "s3://another-bucket/data/ | not in this deployment's bucket",
        "s3://mates-test/data/../runs/x/report.json | '..' are not allowed",
        "s3://mates-test//etc/passwd | relative",
        "http://example.com/pool.jsonl | only s3:// references",
    })
    void malformedBucketReferencesAreInvalid(String spec, String message) {
        refused(Status.Code.INVALID_ARGUMENT, spec, message);
    }

    @Test
    void linksAndDotDotCannotLeaveTheDataRoot() throws IOException {
        Path inside = Files.writeString(root().resolve("inside.jsonl"), "{\"text\":\"hello\"}\n");
        Path link = root().resolve("escape.jsonl");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, Path.of("/etc/passwd"));
        Path dir = Files.createDirectories(root().resolve("folder-with-a-link-out"));
        Files.writeString(dir.resolve("ok.jsonl"), "{\"text\":\"fine\"}\n");
        Path inner = dir.resolve("out.jsonl");
        Files.deleteIfExists(inner);
        Files.createSymbolicLink(inner, Path.of("/etc/hostname"));

        refused(Status.Code.PERMISSION_DENIED, link.toString(), "outside mates.trainer.data-roots");
        refused(Status.Code.PERMISSION_DENIED, root() + "/../../../../etc/passwd", "outside mates.trainer.data-roots");
        refused(Status.Code.PERMISSION_DENIED, dir.toString(), "links outside mates.trainer.data-roots");
        refused(Status.Code.PERMISSION_DENIED, "/nonexistent-outside/pool.jsonl", "outside mates.trainer.data-roots");
        // Missing and existing files outside the roots get the same answer: it reveals nothing about them.
        String missing = description(root() + "/../../../../etc/no-such-file");
        String existing = description(root() + "/../../../../etc/passwd");
        assertEquals(missing.replace("no-such-file", "X"), existing.replace("passwd", "X"));
        // Glob characters would let the engine read files the check never saw.
        Files.writeString(root().resolve("report1.jsonl"), "{\"text\":\"hello\"}\n");
        refused(Status.Code.PERMISSION_DENIED, root() + "/report[1].jsonl", "glob characters");
        refused(Status.Code.PERMISSION_DENIED, root() + "/*.jsonl", "glob characters");
        // Inside the root: allowed (checked without starting a run).
        inputs.check("pool", inside.toString());
        Files.delete(inner);
        inputs.check("pool", dir.toString());
    }

    String description(String spec) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> trainer.startRun(StartRunRequest.newBuilder()
                .setRunId("probe-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36)).setQuick(true).addPool(spec).build()));
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode(), e.getStatus().toString());
        return e.getStatus().getDescription();
    }

    @Test
    void configValuesOutOfBoundsAreInvalid() {
        refusedConfig("train.batch_size", "100000000");
        refusedConfig("model.context", "1000000");
        refusedConfig("mates.stages", "0");
        refusedConfig("oracle.probes", "2000000");
        // Each value within its own bounds, but 4096 × 128 × 65536 logits would not fit in memory.
        String id = "bounds-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> trainer.startRun(StartRunRequest.newBuilder()
                .setRunId(id).setQuick(true).putConfig("train.batch_size", "4096").putConfig("tokenizer.vocab", "65536").build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().contains("train.batch_size × model.context × tokenizer.vocab"), e.getStatus().getDescription());
        refusedConfig("model.preset", "gpt-9");
    }

    void refusedConfig(String key, String value) {
        String id = "bounds-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> trainer.startRun(StartRunRequest.newBuilder()
                .setRunId(id).setQuick(true).putConfig(key, value).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), key + "=" + value + ": " + e.getStatus());
        assertTrue(e.getStatus().getDescription().contains(key), e.getStatus().getDescription());
        assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class,
                () -> trainer.getRun(GetRunRequest.newBuilder().setRunId(id).build())).getStatus().getCode());
    }

    /**
     * Runs submitted at the same moment: one trains, the other waits QUEUED (visible in GetRun and WatchRun) and
     * starts when the first ends; a queued run can be cancelled; beyond mates.trainer.max-queued-runs (2 in tests)
     * StartRun is RESOURCE_EXHAUSTED. (The runs fail at probing, as no prober runs in this test; they are
     * cancelled long before.)
     */
    @Test
    void runsSubmittedTogetherQueueAndStartInTurn() throws Exception {
        String a = "queue-a-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        String b = a.replace("queue-a-", "queue-b-");
        String c = a.replace("queue-a-", "queue-c-");
        String d = a.replace("queue-a-", "queue-d-");
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<RunState>> calls = new java.util.ArrayList<>();
        for (String id : List.of(a, b)) {
            calls.add(two.submit(() -> {
                go.await();
                return trainer.startRun(StartRunRequest.newBuilder().setRunId(id).setQuick(true).build()).getState();
            }));
        }
        go.countDown();
        List<RunState> states = new java.util.ArrayList<>();
        for (var f : calls) states.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
        two.shutdown();
        try {
            assertEquals(java.util.Set.of(RunState.RUN_STATE_RUNNING, RunState.RUN_STATE_QUEUED), java.util.Set.copyOf(states),
                    states.toString());
            String first = states.get(0) == RunState.RUN_STATE_RUNNING ? a : b;
            String second = first.equals(a) ? b : a;
            assertEquals(RunState.RUN_STATE_QUEUED, state(second));
            var watch = trainer.watchRun(dev.mates.proto.v1.WatchRunRequest.newBuilder().setRunId(second).build());
            assertEquals(RunState.RUN_STATE_QUEUED, watch.next().getStatus().getState(), "WatchRun shows the queued state");

            assertEquals(RunState.RUN_STATE_QUEUED, trainer.startRun(StartRunRequest.newBuilder().setRunId(c).setQuick(true).build()).getState());
            StatusRuntimeException full = assertThrows(StatusRuntimeException.class,
                    () -> trainer.startRun(StartRunRequest.newBuilder().setRunId(d).setQuick(true).build()));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, full.getStatus().getCode(), full.getStatus().toString());
            assertTrue(full.getStatus().getDescription().contains("mates.trainer.max-queued-runs"), full.getStatus().getDescription());

            assertEquals(RunState.RUN_STATE_CANCELLED, trainer.cancelRun(CancelRunRequest.newBuilder().setRunId(c).build()).getState(),
                    "a queued run is cancelled at once");
            trainer.cancelRun(CancelRunRequest.newBuilder().setRunId(first).build());
            await("the queued run starts once the first has ended").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
                    .until(() -> state(second) != RunState.RUN_STATE_QUEUED);
            assertTrue(java.util.Set.of(RunState.RUN_STATE_CANCELLED, RunState.RUN_STATE_FAILED).contains(state(first)), state(first).name());
            assertTrue(java.util.Set.of(RunState.RUN_STATE_RUNNING, RunState.RUN_STATE_FAILED).contains(state(second)), state(second).name());
        } finally {
            for (String id : List.of(a, b, c)) {
                try {
                    trainer.cancelRun(CancelRunRequest.newBuilder().setRunId(id).build());
                } catch (StatusRuntimeException notRunning) {
                    // ended already
                }
            }
            for (String id : List.of(a, b)) {
                await("run " + id + " ends").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                        .until(() -> !java.util.Set.of(RunState.RUN_STATE_RUNNING, RunState.RUN_STATE_PENDING,
                                RunState.RUN_STATE_QUEUED).contains(state(id)));
            }
        }
    }

    private RunState state(String id) {
        return trainer.getRun(GetRunRequest.newBuilder().setRunId(id).build()).getState();
    }

    @Test
    void anS3EntryIsAnObjectOrAFolderNeverABarePrefix() {
        // "s3://…/r" is a prefix of "runs/…": as a bare S3 prefix it would list every run's objects.
        try (S3ObjectStore s3 = ServiceTestSupport.objectStore()) {
            s3.put("runs/some-run/report.json", "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String id = "prefix-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        trainer.startRun(StartRunRequest.newBuilder().setRunId(id).setQuick(true).addPool("s3://mates-test/r")
                .addReference("s3://mates-test/r").build());
        RunStatus s = await("run " + id + " ends").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> trainer.getRun(GetRunRequest.newBuilder().setRunId(id).build()),
                        st -> st.getState() != RunState.RUN_STATE_RUNNING && st.getState() != RunState.RUN_STATE_PENDING);
        assertEquals(RunState.RUN_STATE_FAILED, s.getState(), s.toString());
        assertTrue(s.getError().contains("no object under s3://mates-test/r"), s.getError());
    }

    @Test
    void anObjectLargerThanTheLimitFailsTheRunBeforeItIsDownloaded() {
        String id = "big-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        try (S3ObjectStore s3 = ServiceTestSupport.objectStore()) {
            s3.put("data/" + id + "/pool.jsonl", new byte[2 << 20]);
        }
        trainer.startRun(StartRunRequest.newBuilder().setRunId(id).setQuick(true).addPool("s3://mates-test/data/" + id + "/")
                .addReference("s3://mates-test/data/" + id + "/").build());
        RunStatus s = await("run " + id + " ends").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> trainer.getRun(GetRunRequest.newBuilder().setRunId(id).build()),
                        st -> st.getState() != RunState.RUN_STATE_RUNNING && st.getState() != RunState.RUN_STATE_PENDING);
        assertEquals(RunState.RUN_STATE_FAILED, s.getState(), s.toString());
        assertTrue(s.getError().contains("mates.trainer.max-object-bytes"), s.getError());
        assertFalse(Files.exists(runs.workDir().resolve(id).resolve("inputs")), "nothing was downloaded");
    }
}
