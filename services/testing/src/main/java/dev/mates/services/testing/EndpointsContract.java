package dev.mates.services.testing;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Health, metrics, gRPC health and server reflection, the endpoints every mates service serves, and the bearer-token
 * check in front of every call, checked one way for all of them with the real stores. A service's test is a subclass that says only what differs: the gRPC service it
 * serves, the stores its readiness check reports ({@code mates.health.stores}) and the meters {@code /q/metrics}
 * shows before any call. The subclass carries {@code @QuarkusTest} and the module's {@code @WithTestResource}, so
 * it shares the application its module's other tests start:
 *
 * <pre>{@code
 * @QuarkusTest
 * @WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
 * class ScorerEndpointsTest extends EndpointsContract {
 *     ScorerEndpointsTest() {
 *         super("mates.v1.Scorer", "Score", Set.of(Token.CLIENT, Token.INTERNAL), List.of(Store.REDIS, Store.S3),
 *                 List.of("mates_queue_lag"));
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

    /** The kinds of bearer token (docs/security.md). */
    public enum Token {
        CLIENT(RealStoresResource.CLIENT_TOKEN),
        INTERNAL(RealStoresResource.INTERNAL_TOKEN);

        private final String value;

        Token(String value) {
            this.value = value;
        }
    }

    private static final String WRONG_TOKEN = "not-a-mates-token-fedcba9876543210";

    private final String grpcService;
    private final String method;
    private final Set<Token> accepted;
    private final List<Store> stores;
    private final List<String> meters;

    @TestHTTPResource("/")
    protected URL base;
    /** The management interface: health and metrics live there, not on the gRPC port. */
    @TestHTTPResource(value = "/", management = true)
    protected URL management;

    /**
     * @param grpcService the service's full gRPC name, e.g. {@code mates.v1.Scorer}
     * @param method one of its methods, called with an empty request to check authentication
     * @param accepted the kinds of token that may call it
     * @param stores the stores its readiness check reports up
     * @param meters names {@code /q/metrics} contains before any call of the service
     */
    protected EndpointsContract(String grpcService, String method, Set<Token> accepted, List<Store> stores, List<String> meters) {
        this.grpcService = Objects.requireNonNull(grpcService, "grpcService");
        this.method = Objects.requireNonNull(method, "method");
        this.accepted = Set.copyOf(accepted);
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
        mgmt().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.name", hasItem("mates-stores"))
                .body("checks.name", hasItem("gRPC Server"));
        mgmt().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    @Test
    void healthAndMetricsAreOnlyOnTheManagementPort() {
        assertNotEquals(base.getPort(), management.getPort());
        for (String path : List.of("/q/health/ready", "/q/metrics")) {
            int onApi = given().port(base.getPort()).get(path).statusCode();
            assertEquals(404, onApi, path + " must not be served on the API port");
            mgmt().get(path).then().statusCode(200);
        }
    }

    @ParameterizedTest(name = "readiness reports {0} up")
    @MethodSource("stores")
    void readinessReportsTheStoreUp(Store store) {
        mgmt().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks.find { it.name == 'mates-stores' }.data." + store.key, store.up);
    }

    @ParameterizedTest(name = "/q/metrics exposes {0}")
    @MethodSource("meters")
    void metricsExposeTheMeter(String meter) {
        mgmt().get("/q/metrics").then().statusCode(200).body(containsString(meter));
    }

    @Test
    void grpcHealthIsOpenAndReflectionNeedsAToken() throws InterruptedException {
        ManagedChannel open = ServiceTestSupport.channel(null);
        ManagedChannel ch = ServiceTestSupport.channel();
        try {
            assertEquals(ServingStatus.SERVING, ServiceTestSupport.grpcHealth(open, ""));
            assertEquals(ServingStatus.SERVING, ServiceTestSupport.grpcHealth(open, grpcService));
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ServiceTestSupport.reflectedServices(open));
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), e.getStatus().toString());
            Set<String> v1 = ServiceTestSupport.reflectedServices(ch);
            assertTrue(v1.contains(grpcService), v1.toString());
            assertTrue(v1.contains("grpc.health.v1.Health"), v1.toString());
            Set<String> v1alpha = ServiceTestSupport.reflectedServicesV1alpha(ch);
            assertTrue(v1alpha.contains(grpcService), v1alpha.toString());
        } finally {
            open.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void everyCallNeedsAValidTokenOfTheRightKind() {
        Status none = rawCall(null);
        assertEquals(Status.Code.UNAUTHENTICATED, none.getCode(), none.toString());
        assertTrue(none.getDescription().contains("MATES_TOKEN"), "says what to do: " + none);
        Status wrong = rawCall(WRONG_TOKEN);
        assertEquals(Status.Code.UNAUTHENTICATED, wrong.getCode(), wrong.toString());
        assertFalse(wrong.getDescription().contains(WRONG_TOKEN), "the presented token is not echoed: " + wrong);
        for (Token t : Token.values()) {
            Status s = rawCall(t.value);
            if (accepted.contains(t)) {
                assertNotEquals(Status.Code.UNAUTHENTICATED, s.getCode(), t + ": " + s);
                assertNotEquals(Status.Code.PERMISSION_DENIED, s.getCode(), t + ": " + s);
            } else {
                assertEquals(Status.Code.PERMISSION_DENIED, s.getCode(), t + " token on " + method + ": " + s);
            }
        }
    }

    @Test
    void noSecretInTheLog() throws Exception {
        rawCall(WRONG_TOKEN);
        Path log = Path.of("target", "quarkus-test.log");
        assertTrue(Files.isRegularFile(log), "the test profile writes the service log to " + log.toAbsolutePath());
        String text = Files.readString(log);
        assertFalse(text.isEmpty());
        for (String secret : List.of(RealStoresResource.CLIENT_TOKEN, RealStoresResource.INTERNAL_TOKEN, WRONG_TOKEN,
                RealStoresResource.SECRET_KEY)) {
            assertFalse(text.contains(secret), "a secret is in " + log);
        }
    }

    private io.restassured.specification.RequestSpecification mgmt() {
        return given().baseUri("http://localhost").port(management.getPort());
    }

    /** {@code method} called with an empty request and {@code token} (null: none); the status it ends with. */
    private Status rawCall(String token) {
        MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(byte[] value) {
                return new ByteArrayInputStream(value);
            }

            @Override
            public byte[] parse(InputStream stream) {
                try {
                    return stream.readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
        MethodDescriptor<byte[], byte[]> md = MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(grpcService, method))
                .setRequestMarshaller(bytes).setResponseMarshaller(bytes).build();
        ManagedChannel ch = ServiceTestSupport.channel(token);
        try {
            ClientCalls.blockingUnaryCall(ch, md, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[0]);
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        } finally {
            ch.shutdownNow();
        }
    }
}
