package dev.mates.services.oracleprober;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.*;

import dev.mates.services.testing.RealStoresResource;
import dev.mates.services.testing.ServiceTestSupport;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.ManagedChannel;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Health, metrics, gRPC health and server reflection of the oracle prober, with the real stores. */
@QuarkusTest
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class OracleProberEndpointsTest {
    @TestHTTPResource("/")
    URL base;

    @Test
    void theTestPortIsTheResolvedHttpPort() {
        assertEquals(base.getPort(), ServiceTestSupport.testPort());
        assertNotEquals(0, ServiceTestSupport.testPort());
    }

    @Test
    void readyWithTheObjectStoreAndLive() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("mates-stores"))
                .body("checks.find { it.name == 'mates-stores' }.data.s3", containsString(" up"))
                .body("checks.name", hasItem("gRPC Server"));
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void metricsEndpointIsUp() {
        // The domain meters (mates_oracle_probes_total, ...) are checked after probes in ProbeRpcTest.
        given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"));
    }

    @Test
    void grpcHealthAndReflection() throws InterruptedException {
        ManagedChannel ch = ServiceTestSupport.channel();
        try {
            assertEquals(ServingStatus.SERVING, ServiceTestSupport.grpcHealth(ch, ""));
            assertEquals(ServingStatus.SERVING, ServiceTestSupport.grpcHealth(ch, "mates.v1.OracleProber"));
            Set<String> v1 = ServiceTestSupport.reflectedServices(ch);
            assertTrue(v1.contains("mates.v1.OracleProber"), v1.toString());
            assertTrue(v1.contains("grpc.health.v1.Health"), v1.toString());
            Set<String> v1alpha = ServiceTestSupport.reflectedServicesV1alpha(ch);
            assertTrue(v1alpha.contains("mates.v1.OracleProber"), v1alpha.toString());
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
