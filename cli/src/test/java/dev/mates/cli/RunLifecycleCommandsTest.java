package dev.mates.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.proto.v1.CancelRunRequest;
import dev.mates.proto.v1.GetRunRequest;
import dev.mates.proto.v1.Progress;
import dev.mates.proto.v1.ResumeRunRequest;
import dev.mates.proto.v1.RunEvent;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.TrainerGrpc;
import dev.mates.proto.v1.WatchRunRequest;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mates status|watch|cancel|resume} against a scripted trainer on loopback (real gRPC, bearer token): output,
 * exit codes, and the one-line errors of each refusal. The real trainer is in {@link DistributedRunTest}.
 */
class RunLifecycleCommandsTest {
    static final String TOKEN = "test-token-0123456789abcdef";

    @TempDir
    static Path dir;
    static Server server;
    static FakeTrainer trainer = new FakeTrainer();
    static String target;
    static Path tokenFile;

    @BeforeAll
    static void up() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), InsecureServerCredentials.create())
                .addService(ServerInterceptors.intercept(trainer, new RequireToken())).build().start();
        target = "127.0.0.1:" + server.getPort();
        tokenFile = Files.writeString(dir.resolve("token"), TOKEN + "\n");
    }

    @AfterAll
    static void down() {
        server.shutdownNow();
    }

    static Captured mates(String command, String... args) {
        List<String> a = new ArrayList<>(List.of(command));
        a.addAll(List.of(args));
        a.addAll(List.of("--remote", target, "--token-file", tokenFile.toString()));
        return Captured.run(a.toArray(String[]::new));
    }

    static RunStatus status(String id, RunState state) {
        return RunStatus.newBuilder().setRunId(id).setState(state).setPhase("train").setArm("mates").setStage(1).setStep(40).build();
    }

    @Test
    void statusPrintsOneLine() {
        trainer.runs.put("st-1", status("st-1", RunState.RUN_STATE_RUNNING).toBuilder()
                .setCheckpointRef("s3://mates/runs/st-1/mates/checkpoints/step-30/").build());
        Captured c = mates("status", "st-1");
        assertEquals(0, c.code(), c.toString());
        assertEquals("run st-1: RUNNING | train (mates), stage 1, step 40 | resumes 0 | checkpoint "
                + "s3://mates/runs/st-1/mates/checkpoints/step-30/\n", c.out());
    }

    @Test
    void aStateThisBuildDoesNotKnowIsPrintedAndIsNotAnEnd() {
        // e.g. a state added to the proto after this CLI was built
        RunStatus s = RunStatus.newBuilder().setRunId("q").setStateValue(42).build();
        assertEquals("STATE_42", RemoteTrainer.state(s));
        assertFalse(RemoteTrainer.ended(s));
        assertEquals("PENDING", RemoteTrainer.state(status("q", RunState.RUN_STATE_PENDING)));
    }

    @Test
    void everyRefusalIsOneLineWithItsCodeAndWhatToDo() throws IOException {
        Captured c = mates("status", "no-such-run");
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().startsWith("error: NOT_FOUND: no such run on the trainer at " + target), c.toString());
        assertEquals(1, c.err().lines().count(), c.toString());

        trainer.runs.put("done-1", status("done-1", RunState.RUN_STATE_SUCCEEDED));
        c = mates("cancel", "done-1");
        assertEquals(2, c.code(), c.toString());
        assertEquals("error: FAILED_PRECONDITION: run done-1 is SUCCEEDED, not running\n", c.err());

        Path wrong = Files.writeString(dir.resolve("wrong"), "wrong-token-0123456789abcdef\n");
        c = Captured.run("status", "done-1", "--remote", target, "--token-file", wrong.toString());
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().startsWith("error: UNAUTHENTICATED: the trainer at " + target + " refused the token"), c.toString());
        assertTrue(c.err().contains("--token-file"), c.toString());

        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        c = Captured.run("watch", "done-1", "--remote", "127.0.0.1:" + closed, "--token-file", tokenFile.toString());
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().startsWith("error: UNAVAILABLE: no trainer answers at 127.0.0.1:" + closed), c.toString());
        assertTrue(c.err().contains("is the trainer running at 127.0.0.1:" + closed + "?"), c.toString());
    }

    @Test
    void withoutRemoteTheLocalClusterIsNeeded() {
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(RemoteAuth.LOCAL_CLUSTER.resolve("cluster.json")));
        Captured c = Captured.run("status", "r1");
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().startsWith("error: --remote HOST:PORT is required: no local cluster is up"), c.toString());
        assertEquals(2, Captured.run("watch").code(), "RUN_ID is required");
    }

    @Test
    void helpDocumentsTheExitCodes() {
        Captured c = Captured.run("watch", "--help");
        assertEquals(0, c.code());
        assertTrue(c.out().contains("Exit codes:") && c.out().contains("the run ended CANCELLED")
                && c.out().contains("the watch stopped before the run ended"), c.out());
    }

    @Test
    void watchFollowsTheRunAndItsEndIsTheExitCode() {
        for (RunState end : List.of(RunState.RUN_STATE_SUCCEEDED, RunState.RUN_STATE_FAILED, RunState.RUN_STATE_CANCELLED)) {
            String id = "w-" + end.getNumber();
            trainer.runs.put(id, status(id, RunState.RUN_STATE_RUNNING));
            trainer.script(id, o -> {
                o.onNext(RunEvent.newBuilder().setStatus(trainer.runs.get(id)).build());
                o.onNext(RunEvent.newBuilder().setProgress(Progress.newBuilder().setLabel("train").setDone(50).setTotal(50)
                        .setUnit("steps")).build());
                o.onNext(RunEvent.newBuilder().setLog("stage 1 influence model ngram: val Spearman 0.42").build());
                trainer.runs.put(id, status(id, end));
                o.onNext(RunEvent.newBuilder().setStatus(trainer.runs.get(id)).build());
                o.onCompleted();
            });
            Captured c = mates("watch", id);
            int expected = switch (end) {
                case RUN_STATE_SUCCEEDED -> 0;
                case RUN_STATE_FAILED -> 1;
                default -> 4;
            };
            assertEquals(expected, c.code(), c.toString());
            assertTrue(c.err().contains("train      50/50 steps") && c.err().contains("val Spearman 0.42"), c.toString());
            assertTrue(c.out().startsWith("run " + id + ": " + end.name().replace("RUN_STATE_", "")), c.toString());
        }
    }

    @Test
    void watchReconnectsWhenTheStreamBreaksAndStopsWhenNobodyRunsTheRun() {
        trainer.runs.put("re-1", status("re-1", RunState.RUN_STATE_RUNNING));
        trainer.script("re-1", o -> {
            o.onNext(RunEvent.newBuilder().setStatus(trainer.runs.get("re-1")).build());
            o.onError(Status.UNAVAILABLE.withDescription("trainer restarting").asRuntimeException());
        });
        trainer.script("re-1", o -> {
            trainer.runs.put("re-1", status("re-1", RunState.RUN_STATE_SUCCEEDED));
            o.onNext(RunEvent.newBuilder().setStatus(trainer.runs.get("re-1")).build());
            o.onCompleted();
        });
        AuthOptions auth = new AuthOptions();
        auth.tokenFile = tokenFile;
        try (RemoteTrainer t = new RemoteTrainer(target, auth, Duration.ofMillis(20))) {
            assertEquals(RunState.RUN_STATE_SUCCEEDED, t.follow("re-1").getState());
            // Running, but every watch ends at once with its status: this trainer is not executing it.
            trainer.runs.put("orphan", status("orphan", RunState.RUN_STATE_RUNNING));
            RemoteTrainer.WatchStopped e = assertThrows(RemoteTrainer.WatchStopped.class, () -> t.follow("orphan"));
            assertTrue(e.getMessage().contains("mates resume orphan"), e.getMessage());
        }
    }

    @Test
    void cancelThenResume() {
        trainer.runs.put("cr-1", status("cr-1", RunState.RUN_STATE_RUNNING));
        Captured c = mates("cancel", "cr-1");
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().startsWith("run cr-1: RUNNING"), c.toString());
        assertTrue(c.err().contains("mates resume cr-1"), c.toString());

        c = mates("resume", "cr-1", "--detach");
        assertEquals(0, c.code(), c.toString());
        assertEquals("run cr-1: RUNNING | train (mates), stage 1, step 40 | resumes 1\n", c.out());
        c = mates("resume", "cr-1");
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().startsWith("error: FAILED_PRECONDITION: run cr-1 is RUNNING"), c.toString());

        trainer.runs.put("cr-1", status("cr-1", RunState.RUN_STATE_FAILED));
        trainer.script("cr-1", o -> {
            trainer.runs.put("cr-1", status("cr-1", RunState.RUN_STATE_SUCCEEDED));
            o.onNext(RunEvent.newBuilder().setStatus(trainer.runs.get("cr-1")).build());
            o.onCompleted();
        });
        c = mates("resume", "cr-1");
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().startsWith("run cr-1: RUNNING") && c.out().contains("\nrun cr-1: SUCCEEDED"), c.toString());
    }

    /** A trainer whose runs a test sets, and whose WatchRun streams follow the scripts a test queues. */
    static final class FakeTrainer extends TrainerGrpc.TrainerImplBase {
        final Map<String, RunStatus> runs = new ConcurrentHashMap<>();
        final Map<String, Deque<Consumer<StreamObserver<RunEvent>>>> scripts = new ConcurrentHashMap<>();

        void script(String id, Consumer<StreamObserver<RunEvent>> s) {
            scripts.computeIfAbsent(id, k -> new ArrayDeque<>()).add(s);
        }

        private RunStatus find(String id) {
            RunStatus s = runs.get(id);
            if (s == null) throw Status.NOT_FOUND.withDescription("run " + id).asRuntimeException();
            return s;
        }

        @Override
        public void getRun(GetRunRequest r, StreamObserver<RunStatus> o) {
            answer(o, () -> find(r.getRunId()));
        }

        @Override
        public void cancelRun(CancelRunRequest r, StreamObserver<RunStatus> o) {
            answer(o, () -> {
                RunStatus s = find(r.getRunId());
                if (s.getState() != RunState.RUN_STATE_RUNNING) {
                    throw Status.FAILED_PRECONDITION.withDescription("run " + r.getRunId() + " is "
                            + s.getState().name().replace("RUN_STATE_", "") + ", not running").asRuntimeException();
                }
                runs.put(r.getRunId(), s.toBuilder().setState(RunState.RUN_STATE_CANCELLED).build());
                return s;
            });
        }

        @Override
        public void resumeRun(ResumeRunRequest r, StreamObserver<RunStatus> o) {
            answer(o, () -> {
                RunStatus s = find(r.getRunId());
                if (s.getState() == RunState.RUN_STATE_RUNNING || s.getState() == RunState.RUN_STATE_SUCCEEDED) {
                    throw Status.FAILED_PRECONDITION.withDescription("run " + r.getRunId() + " is "
                            + s.getState().name().replace("RUN_STATE_", "")).asRuntimeException();
                }
                RunStatus resumed = s.toBuilder().setState(RunState.RUN_STATE_RUNNING).setResumes(s.getResumes() + 1).build();
                runs.put(r.getRunId(), resumed);
                return resumed;
            });
        }

        @Override
        public void watchRun(WatchRunRequest r, StreamObserver<RunEvent> o) {
            Deque<Consumer<StreamObserver<RunEvent>>> q = scripts.get(r.getRunId());
            Consumer<StreamObserver<RunEvent>> s = q == null ? null : q.poll();
            if (s != null) {
                s.accept(o);
                return;
            }
            try {
                o.onNext(RunEvent.newBuilder().setStatus(find(r.getRunId())).build());
                o.onCompleted(); // not running here: its status is final
            } catch (io.grpc.StatusRuntimeException e) {
                o.onError(e);
            }
        }

        private static void answer(StreamObserver<RunStatus> o, java.util.function.Supplier<RunStatus> f) {
            try {
                o.onNext(f.get());
                o.onCompleted();
            } catch (io.grpc.StatusRuntimeException e) {
                o.onError(e);
            }
        }
    }

    /** The services' rule: every call carries {@code authorization: Bearer <a known token>}. */
    static final class RequireToken implements ServerInterceptor {
        private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            if (!("Bearer " + TOKEN).equals(headers.get(AUTHORIZATION))) {
                call.close(Status.UNAUTHENTICATED.withDescription("unknown bearer token"), new Metadata());
                return new ServerCall.Listener<>() {};
            }
            return next.startCall(call, headers);
        }
    }
}
