package dev.mates.services.testing;

import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.proto.auth.BearerToken;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * What the services' {@code @QuarkusTest}s share: the object store of {@link RealStoresResource}, a real gRPC client
 * channel to the service under test (gRPC is served on the HTTP port), and calls to the standard gRPC health and
 * server-reflection services.
 */
public final class ServiceTestSupport {
    private ServiceTestSupport() {}

    /** The port the service under test listens on ({@code quarkus.http.test-port=0} resolved after start). */
    public static int testPort() {
        return ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
    }

    /** The management interface's port (health, metrics), resolved after start like the test port. */
    public static int managementPort() {
        return ConfigProvider.getConfig().getValue("quarkus.management.test-port", Integer.class);
    }

    /** A RestAssured request against the management interface, e.g. {@code management().get("/q/metrics")}. */
    public static io.restassured.specification.RequestSpecification management() {
        return io.restassured.RestAssured.given().baseUri("http://localhost").port(managementPort()); // plain HTTP, TLS or not
    }

    /**
     * A plaintext HTTP/2 channel to the service under test whose calls carry the token that service takes: the client
     * token where it serves clients ({@code mates.auth.required} has {@code client}), the internal token otherwise.
     * Shut it down after use.
     */
    public static ManagedChannel channel() {
        boolean client = ConfigProvider.getConfig().getOptionalValues("mates.auth.required", String.class)
                .orElse(java.util.List.of()).stream().anyMatch(k -> k.strip().equalsIgnoreCase("client"));
        return channel(client ? RealStoresResource.CLIENT_TOKEN : RealStoresResource.INTERNAL_TOKEN);
    }

    /** A channel whose calls carry {@code token} (null: no authorization header at all). */
    public static ManagedChannel channel(String token) {
        ManagedChannelBuilder<?> b = ManagedChannelBuilder.forAddress("localhost", testPort()).usePlaintext();
        if (token != null) b.intercept(BearerToken.of(() -> token));
        return b.build();
    }

    /** A client of the S3 server the service uses, on the service's bucket (close it after use). */
    public static S3ObjectStore objectStore() {
        Map<String, String> c = RealStoresResource.config();
        S3ObjectStore s3 = new S3ObjectStore(c.get("mates.object-store.endpoint"), c.get("mates.object-store.access-key"),
                c.get("mates.object-store.secret-key"), c.get("mates.object-store.bucket"), "us-east-1");
        s3.ensureBucket();
        return s3;
    }

    /** {@code grpc.health.v1.Health/Check} for {@code service} ("" = the whole server). */
    public static HealthCheckResponse.ServingStatus grpcHealth(Channel ch, String service) {
        return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    /** The services listed by {@code grpc.reflection.v1.ServerReflection}. */
    public static Set<String> reflectedServices(Channel ch) {
        return reflect(observer -> ServerReflectionGrpc.newStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .serverReflectionInfo(observer),
                ServerReflectionRequest.newBuilder().setListServices("*").build(),
                (ServerReflectionResponse r) -> r.getListServicesResponse().getServiceList().stream()
                        .map(ServiceResponse::getName).toList());
    }

    /** The services listed by the older {@code grpc.reflection.v1alpha.ServerReflection} (grpcurl's default). */
    public static Set<String> reflectedServicesV1alpha(Channel ch) {
        return reflect(observer -> grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(ch)
                        .withDeadlineAfter(10, TimeUnit.SECONDS).serverReflectionInfo(observer),
                grpc.reflection.v1alpha.Reflection.ServerReflectionRequest.newBuilder().setListServices("*").build(),
                (grpc.reflection.v1alpha.Reflection.ServerReflectionResponse r) -> r.getListServicesResponse()
                        .getServiceList().stream().map(grpc.reflection.v1alpha.Reflection.ServiceResponse::getName).toList());
    }

    private static <Q, R> Set<String> reflect(Function<StreamObserver<R>, StreamObserver<Q>> call, Q request,
                                              Function<R, java.util.List<String>> names) {
        CompletableFuture<Set<String>> result = new CompletableFuture<>();
        Set<String> out = new TreeSet<>();
        StreamObserver<Q> requests = call.apply(new StreamObserver<>() {
            @Override
            public void onNext(R value) {
                out.addAll(names.apply(value));
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.complete(out);
            }
        });
        requests.onNext(request);
        requests.onCompleted();
        try {
            return result.orTimeout(15, TimeUnit.SECONDS).join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof io.grpc.StatusRuntimeException s) throw s; // as a blocking stub would
            throw e;
        }
    }
}
