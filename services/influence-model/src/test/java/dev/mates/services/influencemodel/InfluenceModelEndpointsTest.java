package dev.mates.services.influencemodel;

import dev.mates.services.testing.EndpointsContract;
import dev.mates.services.testing.RealStoresResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Set;

/**
 * {@link EndpointsContract} of the influence-model service. Its domain meters (mates_influence_fit_seconds, ...) are
 * checked after a Fit in InfluenceModelRpcTest.
 */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class InfluenceModelEndpointsTest extends EndpointsContract {
    InfluenceModelEndpointsTest() {
        super("mates.v1.InfluenceModel", "Fit", Set.of(Token.INTERNAL), List.of(Store.S3), List.of("jvm_memory_used_bytes"));
    }
}
