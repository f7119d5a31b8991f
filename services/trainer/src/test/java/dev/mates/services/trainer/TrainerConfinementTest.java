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

    @Test
    void twoRunsStartedAtTheSameMomentDoNotBothRun() throws Exception {
        String a = "race-a-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        String b = a.replace("race-a-", "race-b-");
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<Status.Code>> calls = new java.util.ArrayList<>();
        for (String id : List.of(a, b)) {
            calls.add(two.submit(() -> {
                go.await();
                try {
                    trainer.startRun(StartRunRequest.newBuilder().setRunId(id).setQuick(true).build());
                    return Status.Code.OK;
                } catch (StatusRuntimeException e) {
                    return e.getStatus().getCode();
                }
            }));
        }
        go.countDown();
        List<Status.Code> codes = new java.util.ArrayList<>();
        for (var c : calls) codes.add(c.get(60, java.util.concurrent.TimeUnit.SECONDS));
        two.shutdown();
        try {
            assertEquals(1, codes.stream().filter(c -> c == Status.Code.OK).count(), codes.toString());
            assertEquals(1, codes.stream().filter(c -> c == Status.Code.RESOURCE_EXHAUSTED).count(), codes.toString());
        } finally {
            for (String id : List.of(a, b)) {
                try {
                    trainer.cancelRun(CancelRunRequest.newBuilder().setRunId(id).build());
                } catch (StatusRuntimeException notRunning) {
                    // the refused one never ran
                }
            }
            for (String id : List.of(a, b)) {
                await("run " + id + " is not running").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                        .until(() -> {
                            try {
                                RunState st = trainer.getRun(GetRunRequest.newBuilder().setRunId(id).build()).getState();
                                return st != RunState.RUN_STATE_RUNNING && st != RunState.RUN_STATE_PENDING;
                            } catch (StatusRuntimeException e) {
                                return e.getStatus().getCode() == Status.Code.NOT_FOUND;
                            }
                        });
            }
        }
    }

    @Test
    void aSecondConcurrentRunIsResourceExhausted() {
        String first = "busy-" + Long.toString(System.nanoTime() % 1_000_000_000L, 36);
        trainer.startRun(StartRunRequest.newBuilder().setRunId(first).setQuick(true).build()); // the demo: runs a while
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> trainer.startRun(
                    StartRunRequest.newBuilder().setRunId(first + "-2").setQuick(true).build()));
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
            assertTrue(e.getStatus().getDescription().contains("mates.trainer.max-concurrent-runs"), e.getStatus().getDescription());
        } finally {
            try {
                trainer.cancelRun(CancelRunRequest.newBuilder().setRunId(first).build());
            } catch (StatusRuntimeException ended) {
                // it may have failed already (no probers in this test)
            }
            await("run " + first + " ends").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                    .until(() -> trainer.getRun(GetRunRequest.newBuilder().setRunId(first).build()),
                            (RunStatus s) -> s.getState() != RunState.RUN_STATE_RUNNING && s.getState() != RunState.RUN_STATE_PENDING);
        }
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
