package dev.mates.services.trainer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.proto.v1.CancelRunRequest;
import dev.mates.proto.v1.GetReportRequest;
import dev.mates.proto.v1.GetRunRequest;
import dev.mates.proto.v1.ResumeRunRequest;
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
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The trainer against the real stores, through a real gRPC client: status codes naming the field, and the run state
 * machine for a run whose data cannot be read. (Health, metrics, gRPC health and reflection are TrainerEndpointsTest;
 * whole runs through all four services are in cli's DistributedRunTest.)
 */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class TrainerServiceTest {
    ManagedChannel ch;
    TrainerGrpc.TrainerBlockingStub trainer;

    @BeforeEach
    void connect() {
        ch = ServiceTestSupport.channel();
        trainer = TrainerGrpc.newBlockingStub(ch);
    }

    @AfterEach
    void close() {
        ch.shutdownNow();
    }

    static StatusRuntimeException fails(Status.Code code, Supplier<?> call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::get);
        assertEquals(code, e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription()));
        return e;
    }

    @Test
    void badRequestsGetStatusCodesNamingTheField() {
        var e = fails(Status.Code.INVALID_ARGUMENT, () -> trainer.startRun(StartRunRequest.newBuilder().setRunId("Bad Id").build()));
        assertTrue(e.getStatus().getDescription().startsWith("run_id:"), e.getStatus().getDescription());
        e = fails(Status.Code.INVALID_ARGUMENT, () -> trainer.startRun(StartRunRequest.newBuilder().setRunId("bad-key")
                .putConfig("selection.tua", "1").build()));
        assertTrue(e.getStatus().getDescription().contains("selection.tua"), e.getStatus().getDescription());
        e = fails(Status.Code.INVALID_ARGUMENT, () -> trainer.startRun(StartRunRequest.newBuilder().setRunId("bad-value")
                .putConfig("selection.tau", "-1").build()));
        assertTrue(e.getStatus().getDescription().contains("selection.tau"), e.getStatus().getDescription());
        e = fails(Status.Code.INVALID_ARGUMENT, () -> trainer.startRun(StartRunRequest.newBuilder().setRunId("bad-selector")
                .setSelector("best").build()));
        assertTrue(e.getStatus().getDescription().contains("--selector"), e.getStatus().getDescription());
        fails(Status.Code.INVALID_ARGUMENT, () -> trainer.getRun(GetRunRequest.newBuilder().build()));
        fails(Status.Code.NOT_FOUND, () -> trainer.getRun(GetRunRequest.newBuilder().setRunId("no-such-run").build()));
        fails(Status.Code.NOT_FOUND, () -> trainer.cancelRun(CancelRunRequest.newBuilder().setRunId("no-such-run").build()));
        fails(Status.Code.NOT_FOUND, () -> trainer.resumeRun(ResumeRunRequest.newBuilder().setRunId("no-such-run").build()));
        fails(Status.Code.NOT_FOUND, () -> trainer.getReport(GetReportRequest.newBuilder().setRunId("no-such-run").build()));
    }

    @Test
    void aRunWhoseDataCannotBeReadFailsWithTheReasonAndKeepsItsStateMachine() {
        String id = "missing-data-" + System.nanoTime() % 100000;
        StartRunRequest req = StartRunRequest.newBuilder().setRunId(id).setQuick(true)
                .addPool("s3://mates-test/nonexistent/pool.jsonl").addReference("s3://mates-test/nonexistent/ref.jsonl").build();
        RunStatus started = trainer.startRun(req);
        assertEquals(id, started.getRunId());
        RunStatus s = await("run " + id + " leaves RUNNING and PENDING").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> trainer.getRun(GetRunRequest.newBuilder().setRunId(id).build()),
                        st -> st.getState() != RunState.RUN_STATE_RUNNING && st.getState() != RunState.RUN_STATE_PENDING);
        assertEquals(RunState.RUN_STATE_FAILED, s.getState(), s.toString());
        assertTrue(s.getError().contains("no object under s3://mates-test/nonexistent/"), s.getError());
        fails(Status.Code.ALREADY_EXISTS, () -> trainer.startRun(req));
        fails(Status.Code.FAILED_PRECONDITION, () -> trainer.getReport(GetReportRequest.newBuilder().setRunId(id).build()));
        fails(Status.Code.FAILED_PRECONDITION, () -> trainer.cancelRun(CancelRunRequest.newBuilder().setRunId(id).build()));
        RunStatus resumed = trainer.resumeRun(ResumeRunRequest.newBuilder().setRunId(id).build());
        assertEquals(1, resumed.getResumes());
    }
}
