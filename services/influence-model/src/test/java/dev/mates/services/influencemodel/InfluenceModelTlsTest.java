package dev.mates.services.influencemodel;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mates.local.Certificates;
import dev.mates.proto.auth.BearerToken;
import dev.mates.proto.auth.Channels;
import dev.mates.proto.v1.FitRequest;
import dev.mates.proto.v1.InfluenceModelGrpc;
import dev.mates.services.testing.RealStoresResource;
import dev.mates.services.testing.ServiceTestSupport;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.nio.file.StandardCopyOption;
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
    static final Certificates CA = Certificates.newAuthority("mates test CA", Duration.ofDays(1));
    static final Path DIR = certificates();

    static Path certificates() {
        try {
            Path dir = Files.createTempDirectory("mates-tls-test");
            Certificates ca = CA;
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
                    "mates.tls.ca-file", DIR.resolve("server/ca.crt").toString(),
                    "mates.tls.reload-period", "1s"); // the test of a renewed certificate should not wait an hour
            Properties app = new Properties();
            try (var in = InfluenceModelTlsTest.class.getResourceAsStream("/application.properties")) {
                app.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Map<String, String> out = new HashMap<>(files);
            Pattern ref = Pattern.compile("\\$\\{(mates\\.tls\\.[a-z-]+):([^}]*)}");
            for (String k : app.stringPropertyNames()) {
                if (!k.startsWith("%tls.")) continue;
                Matcher m = ref.matcher(app.getProperty(k));
                out.put(k.substring(5), m.matches() ? files.getOrDefault(m.group(1), m.group(2)) : app.getProperty(k));
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

    /** The serial number of the certificate the server presents, seen by a client trusting {@code ca}. */
    static BigInteger servedSerial(Path ca) throws Exception {
        X509Certificate caCert;
        try (var in = Files.newInputStream(ca)) {
            caCert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        ks.setCertificateEntry("ca", caCert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        X509ExtendedTrustManager base = (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
        AtomicReference<BigInteger> served = new AtomicReference<>();
        X509ExtendedTrustManager recording = new X509ExtendedTrustManager() {
            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                served.set(chain[0].getSerialNumber());
                base.checkServerTrusted(chain, authType, socket);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                served.set(chain[0].getSerialNumber());
                base.checkServerTrusted(chain, authType, engine);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                served.set(chain[0].getSerialNumber());
                base.checkServerTrusted(chain, authType);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                base.checkClientTrusted(chain, authType, socket);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
                base.checkClientTrusted(chain, authType, engine);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                base.checkClientTrusted(chain, authType);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return base.getAcceptedIssuers();
            }
        };
        ManagedChannel ch = Grpc.newChannelBuilder("localhost:" + tlsPort(), TlsChannelCredentials.newBuilder()
                .trustManager(recording).keyManager(DIR.resolve("client/tls.crt").toFile(), DIR.resolve("client/tls.key").toFile())
                .build()).intercept(BearerToken.of(() -> RealStoresResource.INTERNAL_TOKEN)).build();
        assertEquals(Status.Code.INVALID_ARGUMENT, fit(ch));
        return served.get();
    }

    static BigInteger serialOf(Path pem) throws Exception {
        try (var in = Files.newInputStream(pem)) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber();
        }
    }

    @Test
    void aRenewedServerCertificateIsServedWithoutARestart() throws Exception {
        Path ca = DIR.resolve("client/ca.crt");
        assertEquals(serialOf(DIR.resolve("server/tls.crt")), servedSerial(ca));
        // cert-manager's renewal: the same CA issues a new certificate, written over the Secret's files.
        Path renewed = DIR.resolve("renewed");
        CA.issue("influence-model", List.of("localhost", "127.0.0.1"), Duration.ofDays(1), renewed);
        BigInteger next = serialOf(renewed.resolve("tls.crt"));
        Files.copy(renewed.resolve("tls.key"), DIR.resolve("server/tls.key"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(renewed.resolve("tls.crt"), DIR.resolve("server/tls.crt"), StandardCopyOption.REPLACE_EXISTING);
        await("the renewed certificate is served").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .until(() -> next.equals(servedSerial(ca)));
    }

    /** Fit with an empty request through {@code ch}, which stays open. */
    static Status.Code fitThrough(io.grpc.Channel ch) {
        try {
            InfluenceModelGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS).fit(FitRequest.getDefaultInstance());
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    @Test
    void theTrainersChannelUsesARenewedClientCertificateWithoutARestart() throws Exception {
        // The trainer's kind of channel (Channels.Reloading): it looks at its TLS files and, when they changed,
        // connects afresh with them.
        Path c = DIR.resolve("reloading-client");
        CA.issue("trainer", List.of(), Duration.ofDays(1), c);
        Channels.Tls tls = new Channels.Tls(c.resolve("ca.crt"), c.resolve("tls.crt"), c.resolve("tls.key"));
        try (Channels.Reloading reloading = new Channels.Reloading(tls, Duration.ofMillis(200),
                t -> Channels.builder("localhost:" + tlsPort(), t).build())) {
            io.grpc.Channel ch = io.grpc.ClientInterceptors.intercept(reloading, BearerToken.of(() -> RealStoresResource.INTERNAL_TOKEN));
            assertEquals(Status.Code.INVALID_ARGUMENT, fitThrough(ch));
            // The files now hold a certificate of another CA: the channel follows them, and the server refuses it.
            Files.copy(DIR.resolve("other/tls.key"), c.resolve("tls.key"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(DIR.resolve("other/tls.crt"), c.resolve("tls.crt"), StandardCopyOption.REPLACE_EXISTING);
            await("the replaced certificate is used").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                    .until(() -> fitThrough(ch) == Status.Code.UNAVAILABLE);
            // A renewed certificate of the right CA: accepted again, same channel object, no restart.
            Path renewed = DIR.resolve("renewed-client");
            CA.issue("trainer", List.of(), Duration.ofDays(1), renewed);
            Files.copy(renewed.resolve("tls.key"), c.resolve("tls.key"), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(renewed.resolve("tls.crt"), c.resolve("tls.crt"), StandardCopyOption.REPLACE_EXISTING);
            await("the renewed certificate is used").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
                    .until(() -> fitThrough(ch) == Status.Code.INVALID_ARGUMENT);
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
