package dev.mates.services.trainer;

import dev.mates.services.testing.EndpointsContract;
import dev.mates.services.testing.RealStoresResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Set;

/** {@link EndpointsContract} of the trainer: both stores, and its training meters from the start. */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class TrainerEndpointsTest extends EndpointsContract {
    TrainerEndpointsTest() {
        super("mates.v1.Trainer", "GetRun", Set.of(Token.CLIENT), List.of(Store.REDIS, Store.S3),
                List.of("mates_trainer_tokens_trained_total", "mates_trainer_runs_active"));
    }
}
