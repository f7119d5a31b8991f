package dev.mates.services.testing;

import dev.mates.local.LocalRedis;
import dev.mates.local.LocalS3;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Map;

/**
 * Starts a real redis-server and a real S3 API server (S3Proxy, a separate JVM) on free loopback ports for
 * {@code @QuarkusTest}s, once per test JVM, and points the service's configuration at them.
 */
public class RealStoresResource implements QuarkusTestResourceLifecycleManager {
    public static final String ACCESS_KEY = "mates-test";
    public static final String SECRET_KEY = "mates-test-secret";
    private static LocalRedis redis;
    private static LocalS3 s3;

    @Override
    public synchronized Map<String, String> start() {
        try {
            if (redis == null || !redis.isRunning()) {
                redis = LocalRedis.start(0, Files.createTempDirectory("mates-test-redis"));
            }
            if (s3 == null || !s3.isRunning()) {
                s3 = LocalS3.start(LocalS3.locateJar(), 0, Files.createTempDirectory("mates-test-s3"), ACCESS_KEY, SECRET_KEY);
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
                "mates.redis.uri", redis.uri());
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
