package dev.mates.services.influencemodel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mates.local.Certificates;
import dev.mates.proto.auth.BearerToken;
import dev.mates.proto.auth.Channels;
import dev.mates.proto.v1.FitRequest;
import dev.mates.proto.v1.InfluenceModelGrpc;
import dev.mates.services.testing.RealStoresResource;
import dev.mates.services.testing.ServiceTestSupport;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * The service with mutual TLS on its gRPC port, as a Kubernetes deployment with a cert-manager Secret runs it (the
 * profile {@code tls} of application.properties, the files' paths given as settings):
 * certificates made in the test by a throwaway CA. A client with the CA and its own certificate gets through (and
 * still needs its token); a client without a certificate, one that trusts another CA, and a plaintext client are
 * refused.
 */
@QuarkusTest
@TestProfile(InfluenceModelTlsTest.MutualTls.class)
@WithTestResource(value = RealStoresResource.class, scope = TestResourceScope.GLOBAL)
class InfluenceModelTlsTest {
    static final Path DIR = certificates();

    static Path certificates() {
        try {
            Path dir = Files.createTempDirectory("mates-tls-test");
            Certificates ca = Certificates.newAuthority("mates test CA", Duration.ofDays(1));
            ca.issue("influence-model", List.of("localhost", "127.0.0.1"), Duration.ofDays(1), dir.resolve("server"));
            ca.issue("trainer", List.of(), Duration.ofDays(1), dir.resolve("client"));
            Certificates other = Certificates.newAuthority("another CA", Duration.ofDays(1));
            other.issue("intruder", List.of(), Duration.ofDays(1), dir.resolve("other"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The {@code %tls.} lines of this service's application.properties, applied as they are (what
     * {@code QUARKUS_PROFILE=prod,tls} turns on), with the certificate files of this test as the mates.tls.* settings.
     * (Read from the file rather than activated as a profile: a test profile's name outlives its test class.)
     */
    public static class MutualTls implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> files = Map.of("mates.tls.cert-file", DIR.resolve("server/tls.crt").toString(),
                    "mates.tls.key-file", DIR.resolve("server/tls.key").toString(),
                    "mates.tls.ca-file", DIR.resolve("server/ca.crt").toString());
            Properties app = new Properties();
            try (var in = InfluenceModelTlsTest.class.getResourceAsStream("/application.properties")) {
                app.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Map<String, String> out = new HashMap<>(files);
            Pattern ref = Pattern.compile("\\$\\{(mates\\.tls\\.[a-z-]+):[^}]*}");
            for (String k : app.stringPropertyNames()) {
                if (!k.startsWith("%tls.")) continue;
                Matcher m = ref.matcher(app.getProperty(k));
                out.put(k.substring(5), m.matches() ? files.get(m.group(1)) : app.getProperty(k));
            }
            if (!out.containsKey("quarkus.http.insecure-requests") || !out.containsKey("quarkus.http.tls-configuration-name")) {
                throw new IllegalStateException("application.properties has no %tls profile: " + out.keySet());
            }
            return out;
        }
    }

    static int tlsPort() {
        return ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
    }

    static ManagedChannel channel(Channels.Tls tls, String token) {
        var b = Channels.builder("localhost:" + tlsPort(), tls);
        if (token != null) b.intercept(BearerToken.of(() -> token));
        return b.build();
    }

    /** Fit with an empty request: INVALID_ARGUMENT once the call reached the service. */
    static Status.Code fit(ManagedChannel ch) {
        try {
            InfluenceModelGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS).fit(FitRequest.getDefaultInstance());
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void healthAndMetricsStayPlainHttpForProbesAndPrometheus() {
        ServiceTestSupport.management().get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void mutualTlsWithTheTokenReachesTheService() {
        Channels.Tls tls = new Channels.Tls(DIR.resolve("client/ca.crt"), DIR.resolve("client/tls.crt"), DIR.resolve("client/tls.key"));
        assertEquals(Status.Code.INVALID_ARGUMENT, fit(channel(tls, RealStoresResource.INTERNAL_TOKEN)));
        assertEquals(Status.Code.UNAUTHENTICATED, fit(channel(tls, null)), "TLS does not replace the token");
        ManagedChannel health = channel(tls, null);
        try {
            assertEquals(ServingStatus.SERVING, ServiceTestSupport.grpcHealth(health, ""));
        } finally {
            health.shutdownNow();
        }
    }

    @Test
    void clientsWithoutACertificateOfThisCaOrWithoutTlsAreRefused() {
        Channels.Tls noCert = new Channels.Tls(DIR.resolve("client/ca.crt"), null, null);
        assertEquals(Status.Code.UNAVAILABLE, fit(channel(noCert, RealStoresResource.INTERNAL_TOKEN)), "no client certificate");
        Channels.Tls otherCa = new Channels.Tls(DIR.resolve("client/ca.crt"), DIR.resolve("other/tls.crt"), DIR.resolve("other/tls.key"));
        assertEquals(Status.Code.UNAVAILABLE, fit(channel(otherCa, RealStoresResource.INTERNAL_TOKEN)), "a certificate of another CA");
        Channels.Tls trustsOther = new Channels.Tls(DIR.resolve("other/ca.crt"), DIR.resolve("client/tls.crt"), DIR.resolve("client/tls.key"));
        assertEquals(Status.Code.UNAVAILABLE, fit(channel(trustsOther, RealStoresResource.INTERNAL_TOKEN)), "the server's CA not trusted");
        assertEquals(Status.Code.UNAVAILABLE, fit(channel(Channels.Tls.NONE, RealStoresResource.INTERNAL_TOKEN)), "plaintext");
    }
}
