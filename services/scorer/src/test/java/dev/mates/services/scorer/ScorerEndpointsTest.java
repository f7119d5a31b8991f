package dev.mates.services.scorer;

import dev.mates.services.testing.EndpointsContract;
import dev.mates.services.testing.RealStoresResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Set;

/** {@link EndpointsContract} of the scorer: both stores, and the shard workers' and queue's meters from the start. */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class ScorerEndpointsTest extends EndpointsContract {
    ScorerEndpointsTest() {
        super("mates.v1.Scorer", "Score", Set.of(Token.CLIENT, Token.INTERNAL), List.of(Store.REDIS, Store.S3), List.of("mates_scorer_shards_completed_total",
                "mates_scorer_shards_failed_total", "mates_scorer_shard_documents_total", "mates_queue_pending",
                "mates_queue_lag", "mates_queue_length"));
    }
}
