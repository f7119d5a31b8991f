package dev.mates.services.testing;

import dev.mates.local.LocalRedis;
import dev.mates.local.LocalS3;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Starts a real redis-server and a real S3 API server (S3Proxy, a separate JVM) on free loopback ports for
 * {@code @QuarkusTest}s, once per test JVM, and points the service's configuration at them.
 */
public class RealStoresResource implements QuarkusTestResourceLifecycleManager {
    public static final String ACCESS_KEY = "mates-test";
    public static final String SECRET_KEY = "mates-test-secret";
    /** The tokens the services under test accept (mates.auth.token-file and mates.auth.internal-token-file). */
    public static final String CLIENT_TOKEN = "test-client-token-0123456789abcdef";
    public static final String INTERNAL_TOKEN = "test-internal-token-0123456789abcdef";
    private static LocalRedis redis;
    private static LocalS3 s3;
    private static Path tokens;

    @Override
    public synchronized Map<String, String> start() {
        try {
            if (redis == null || !redis.isRunning()) {
                redis = LocalRedis.start(0, Files.createTempDirectory("mates-test-redis"));
            }
            if (s3 == null || !s3.isRunning()) {
                s3 = LocalS3.start(LocalS3.locateJar(), 0, Files.createTempDirectory("mates-test-s3"), ACCESS_KEY, SECRET_KEY);
            }
            if (tokens == null) {
                tokens = Files.createTempDirectory("mates-test-tokens");
                Files.writeString(clientTokenFile(), CLIENT_TOKEN + "\n");
                Files.writeString(internalTokenFile(), INTERNAL_TOKEN + "\n");
                Files.createDirectories(dataRoot());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return config();
    }

    /** The configuration that points a service at the running servers. */
    public static Map<String, String> config() {
        return Map.of("mates.object-store.endpoint", s3.endpoint(), "mates.object-store.access-key", ACCESS_KEY,
                "mates.object-store.secret-key", SECRET_KEY, "mates.object-store.bucket", "mates-test",
                "mates.redis.uri", redis.uri(), "mates.auth.token-file", clientTokenFile().toString(),
                "mates.auth.internal-token-file", internalTokenFile().toString(),
                "mates.trainer.data-roots", dataRoot().toString());
    }

    /** The client token file; a test that rewrites it (rotation) must restore {@link #CLIENT_TOKEN} afterwards. */
    public static Path clientTokenFile() {
        return tokens.resolve("client-token");
    }

    /** The one local folder the trainer under test may read data from (mates.trainer.data-roots). */
    public static Path dataRoot() {
        return tokens.resolve("data-root");
    }

    public static Path internalTokenFile() {
        return tokens.resolve("internal-token");
    }

    public static LocalRedis redis() {
        return redis;
    }

    public static LocalS3 s3() {
        return s3;
    }

    /** Servers are shared by every test class of the JVM and stopped when it exits (LocalRedis/LocalS3 hooks). */
    @Override
    public void stop() {}

}
