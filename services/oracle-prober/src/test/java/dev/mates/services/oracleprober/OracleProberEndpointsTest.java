package dev.mates.services.oracleprober;

import dev.mates.services.testing.EndpointsContract;
import dev.mates.services.testing.RealStoresResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.util.List;
import java.util.Set;

/**
 * {@link EndpointsContract} of the oracle prober. Its domain meters (mates_oracle_probes_total, ...) are checked
 * after probes in ProbeRpcTest.
 */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class OracleProberEndpointsTest extends EndpointsContract {
    OracleProberEndpointsTest() {
        super("mates.v1.OracleProber", "Probe", Set.of(Token.INTERNAL), List.of(Store.S3), List.of("jvm_memory_used_bytes"));
    }
}
