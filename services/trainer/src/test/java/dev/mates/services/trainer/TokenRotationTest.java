package dev.mates.services.trainer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mates.proto.v1.GetRunRequest;
import dev.mates.proto.v1.TrainerGrpc;
import dev.mates.services.testing.RealStoresResource;
import dev.mates.services.testing.ServiceTestSupport;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A token file rewritten while the trainer runs: the new token works and the dropped one stops working, no restart. */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class TokenRotationTest {
    static final String NEXT = "rotated-client-token-0123456789abcdef";

    /** The status of a GetRun for a run that does not exist: NOT_FOUND once authenticated. */
    static Status.Code call(String token) {
        ManagedChannel ch = ServiceTestSupport.channel(token);
        try {
            TrainerGrpc.newBlockingStub(ch).getRun(GetRunRequest.newBuilder().setRunId("no-such-run").build());
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void aRotatedTokenFileTakesEffectWithoutARestart() throws IOException {
        Path f = RealStoresResource.clientTokenFile();
        try {
            Files.writeString(f, NEXT + "\n" + RealStoresResource.CLIENT_TOKEN + "\n"); // roll-over: both work
            await("the new token is accepted").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> call(NEXT) == Status.Code.NOT_FOUND);
            assertEquals(Status.Code.NOT_FOUND, call(RealStoresResource.CLIENT_TOKEN));
            Files.writeString(f, NEXT + "\n"); // the old token dropped
            await("the dropped token is refused").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> call(RealStoresResource.CLIENT_TOKEN) == Status.Code.UNAUTHENTICATED);
            assertEquals(Status.Code.NOT_FOUND, call(NEXT));
            Files.writeString(f, "bad token with spaces\n"); // a broken rewrite keeps the last good tokens
            await().pollDelay(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(5)).until(() -> true);
            assertEquals(Status.Code.NOT_FOUND, call(NEXT));
        } finally {
            Files.writeString(f, RealStoresResource.CLIENT_TOKEN + "\n");
            await("the test token is back").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> call(RealStoresResource.CLIENT_TOKEN) == Status.Code.NOT_FOUND);
        }
    }
}
