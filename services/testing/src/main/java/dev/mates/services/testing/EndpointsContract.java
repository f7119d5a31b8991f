package dev.mates.services.testing;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.ManagedChannel;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URL;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.hamcrest.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Health, metrics, gRPC health and server reflection, the endpoints every mates service serves, checked one way for
 * all of them with the real stores. A service's test is a subclass that says only what differs: the gRPC service it
 * serves, the stores its readiness check reports ({@code mates.health.stores}) and the meters {@code /q/metrics}
 * shows before any call. The subclass carries {@code @QuarkusTest} and the module's {@code @WithTestResource}, so
 * it shares the application its module's other tests start:
 *
 * <pre>{@code
 * @QuarkusTest
 * @WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
 * class ScorerEndpointsTest extends EndpointsContract {
 *     ScorerEndpointsTest() {
 *         super("mates.v1.Scorer", List.of(Store.REDIS, Store.S3), List.of("mates_queue_lag"));
 *     }
 * }
 * }</pre>
 *
 * Stores and meters are {@link ParameterizedTest} cases, one reported result each; an empty list fails (JUnit runs
 * no parameterised test without arguments).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // the cases' sources are the subclass's lists
public abstract class EndpointsContract {
    /** A store the readiness check {@code mates-stores} reports, and what its entry reads while the store is up. */
    public enum Store {
        /** {@code "<endpoint>/<bucket> up"}. */
        S3("s3", containsString(" up")),
        REDIS("redis", equalTo("up"));

        private final String key;
        private final Matcher<String> up;

        Store(String key, Matcher<String> up) {
            this.key = key;
            this.up = up;
        }
    }

    private final String grpcService;
    private final List<Store> stores;
    private final List<String> meters;

    @TestHTTPResource("/")
    protected URL base;

    /**
     * @param grpcService the service's full gRPC name, e.g. {@code mates.v1.Scorer}
     * @param stores the stores its readiness check reports up
     * @param meters names {@code /q/metrics} contains before any call of the service
     */
    protected EndpointsContract(String grpcService, List<Store> stores, List<String> meters) {
        this.grpcService = Objects.requireNonNull(grpcService, "grpcService");
        this.stores = List.copyOf(stores);
        this.meters = List.copyOf(meters);
    }

    List<Store> stores() {
        return stores;
    }

    List<String> meters() {
        return meters;
    }

    @Test
    void theTestPortIsTheResolvedHttpPort() {
        assertEquals(base.getPort(), ServiceTestSupport.testPort());
        assertNotEquals(0, ServiceTestSupport.testPort());
    }

    @Test
    void readyWithTheStoresAndGrpcAndLive() {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("mates-stores"))
                .body("checks.name", hasItem("gRPC Server"));
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    @ParameterizedTest(name = "readiness reports {0} up")
    @MethodSource("stores")
    void readinessReportsTheStoreUp(Store store) {
        given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.find { it.name == 'mates-stores' }.data." + store.key, store.up);
    }

    @ParameterizedTest(name = "/q/metrics exposes {0}")
    @MethodSource("meters")
    void metricsExposeTheMeter(String meter) {
        given().get("/q/metrics").then().statusCode(200).body(containsString(meter));
    }

    @Test
    void grpcHealthAndReflection() throws InterruptedException {
        ManagedChannel ch = ServiceTestSupport.channel();
        try {
            assertEquals(ServingStatus.SERVING, ServiceTestSupport.grpcHealth(ch, ""));
            assertEquals(ServingStatus.SERVING, ServiceTestSupport.grpcHealth(ch, grpcService));
            Set<String> v1 = ServiceTestSupport.reflectedServices(ch);
            assertTrue(v1.contains(grpcService), v1.toString());
            assertTrue(v1.contains("grpc.health.v1.Health"), v1.toString());
            Set<String> v1alpha = ServiceTestSupport.reflectedServicesV1alpha(ch);
            assertTrue(v1alpha.contains(grpcService), v1alpha.toString());
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
