package dev.mates.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.JedisPooled;

/** The servers are checked with plain Jedis and MinIO clients: this module does not depend on the adapters. */
class LocalServersTest {
    @TempDir
    Path dir;

    private static MinioClient s3Client(LocalS3 s3) {
        return MinioClient.builder().endpoint(s3.endpoint()).credentials(s3.accessKey(), s3.secretKey())
                .region(s3.region()).build();
    }

    private static void put(MinioClient c, String bucket, String key, byte[] bytes) throws Exception {
        if (!c.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
            c.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
        }
        c.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                .stream(new ByteArrayInputStream(bytes), bytes.length, -1).build());
    }

    private static byte[] get(MinioClient c, String bucket, String key) throws Exception {
        try (GetObjectResponse in = c.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
            return in.readAllBytes();
        }
    }

    private static void assertPortFree(int port) throws IOException {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(port, s.getLocalPort());
        }
    }

    @Test
    void localRedisStartsAnswersAndStopsFreeingItsPort() throws Exception {
        int port;
        try (LocalRedis redis = LocalRedis.start(0, null)) {
            port = redis.port();
            assertTrue(port > 0);
            assertEquals("redis://127.0.0.1:" + port, redis.uri());
            assertTrue(redis.pid() > 0);
            assertTrue(redis.isRunning());
            assertTrue(LocalRedis.answersPing(port));
            try (JedisPooled jedis = new JedisPooled(redis.uri())) {
                assertEquals("PONG", jedis.ping());
            }
            redis.stop();
            assertFalse(redis.isRunning());
            redis.stop(); // idempotent
        }
        assertFalse(ChildProcess.accepts(port));
        assertPortFree(port);
    }

    @Test
    void localRedisWithADataDirKeepsDataAcrossRestarts() throws Exception {
        Path data = dir.resolve("redis-data");
        int port;
        try (LocalRedis redis = LocalRedis.start(0, data);
             JedisPooled jedis = new JedisPooled(redis.uri())) {
            port = redis.port();
            jedis.hset("t:run", Map.of("phase", "stage-2"));
            assertEquals(data.resolve("redis.log"), redis.logFile());
        }
        assertTrue(Files.exists(data.resolve("redis.log")));
        try (LocalRedis again = LocalRedis.start(port, data);
             JedisPooled jedis = new JedisPooled(again.uri())) {
            assertEquals(port, again.port());
            assertEquals(Map.of("phase", "stage-2"), jedis.hgetAll("t:run"));
        }
    }

    @Test
    void localRedisOnATakenPortFailsWithTheLog() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> LocalRedis.start(taken.getLocalPort(), null));
            assertTrue(e.getMessage().contains("redis-server exited"), e.getMessage());
        }
    }

    @Test
    void bundledRedisBinaryIsChosenByPlatform() {
        assertEquals("redis-server-6.2.6-v5-linux-amd64", LocalRedis.bundledResource("Linux", "amd64"));
        assertEquals("redis-server-6.2.7-linux-arm64", LocalRedis.bundledResource("Linux", "aarch64"));
        assertEquals("redis-server-6.2.6-v5-darwin-arm64", LocalRedis.bundledResource("Mac OS X", "aarch64"));
        assertNull(LocalRedis.bundledResource("Windows 11", "amd64"));
        assertTrue(Files.isExecutable(LocalRedis.locateBinary()));
    }

    @Test
    void localS3StartsServesAndStopsFreeingItsPortAndKeepsItsData() throws Exception {
        Path data = dir.resolve("s3-data");
        byte[] payload = "hello".getBytes(StandardCharsets.UTF_8);
        int port;
        try (LocalS3 s3 = LocalS3.start(LocalS3.locateJar(), 0, data, "ak", "sk-secret");
             MinioClient client = s3Client(s3)) {
            port = s3.port();
            assertEquals("http://127.0.0.1:" + port, s3.endpoint());
            assertTrue(s3.pid() > 0);
            put(client, "bucket-one", "k/v", payload);
            assertEquals(data.resolve("s3proxy.log"), s3.logFile());
            s3.stop();
            assertFalse(s3.isRunning());
        }
        assertPortFree(port);
        try (LocalS3 again = LocalS3.start(LocalS3.locateJar(), 0, data, "ak", "sk-secret");
             MinioClient client = s3Client(again)) {
            assertArrayEquals(payload, get(client, "bucket-one", "k/v"));
        }
    }

    @Test
    void locateJarHonoursTheSystemPropertyAndExplainsHowToGetTheJar() {
        String saved = System.getProperty(LocalS3.JAR_PROPERTY);
        try {
            Path found = LocalS3.locateJar();
            assertTrue(Files.isRegularFile(found), found.toString());
            System.setProperty(LocalS3.JAR_PROPERTY, dir.resolve("missing.jar").toString());
            IllegalStateException e = assertThrows(IllegalStateException.class, LocalS3::locateJar);
            assertTrue(e.getMessage().contains("dependency:get -Dartifact=org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies"),
                    e.getMessage());
            IllegalStateException start = assertThrows(IllegalStateException.class,
                    () -> LocalS3.start(dir.resolve("missing.jar"), 0, dir, "a", "b"));
            assertTrue(start.getMessage().contains("dependency:get"), start.getMessage());
        } finally {
            if (saved == null) System.clearProperty(LocalS3.JAR_PROPERTY);
            else System.setProperty(LocalS3.JAR_PROPERTY, saved);
        }
    }
}
