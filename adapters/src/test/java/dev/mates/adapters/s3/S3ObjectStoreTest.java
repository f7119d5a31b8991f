package dev.mates.adapters.s3;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.engine.store.StoreUnavailableException;
import dev.mates.local.LocalS3;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class S3ObjectStoreTest {
    @TempDir
    static Path dir;
    static LocalS3 s3;
    static S3ObjectStore store;

    @BeforeAll
    static void startS3() {
        s3 = LocalS3.start(LocalS3.locateJar(), 0, dir.resolve("s3"), "mates-test", "mates-test-secret");
        store = new S3ObjectStore(s3.endpoint(), s3.accessKey(), s3.secretKey(), "mates-test", s3.region());
        store.ensureBucket();
    }

    @AfterAll
    static void stopS3() {
        if (store != null) store.close();
        if (s3 != null) s3.stop();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void putGetExistsAndOverwrite() {
        store.put("a/b/one.bin", utf8("first"));
        assertTrue(store.exists("a/b/one.bin"));
        assertArrayEquals(utf8("first"), store.get("a/b/one.bin").orElseThrow());
        store.put("a/b/one.bin", utf8("second, longer"));
        assertArrayEquals(utf8("second, longer"), store.get("a/b/one.bin").orElseThrow());
        store.put("a/empty", new byte[0]);
        assertArrayEquals(new byte[0], store.get("a/empty").orElseThrow());
    }

    @Test
    void missingKeyIsEmpty() {
        assertEquals(Optional.empty(), store.get("no/such/key"));
        assertFalse(store.exists("no/such/key"));
    }

    @Test
    void listIsRecursiveSortedAndPrefixed() {
        store.put("list/z", utf8("1"));
        store.put("list/a/deep/x", utf8("2"));
        store.put("list/m", utf8("3"));
        store.put("listing-other", utf8("4"));
        assertEquals(List.of("list/a/deep/x", "list/m", "list/z"), store.list("list/"));
        assertEquals(List.of(), store.list("nothing-here/"));
        assertTrue(store.list("").containsAll(List.of("list/z", "listing-other")));
    }

    @Test
    void largeObjectGoesMultipartAndRoundTrips() throws Exception {
        byte[] big = new byte[(int) S3ObjectStore.PART_SIZE + 3 * 1024 * 1024 + 17];
        new Random(42).nextBytes(big);
        store.put("big/blob", big);
        assertArrayEquals(big, store.get("big/blob").orElseThrow());
        store.put("small/blob", new byte[1024]);
        try (MinioClient raw = MinioClient.builder().endpoint(s3.endpoint()).credentials(s3.accessKey(), s3.secretKey())
                .region(s3.region()).build()) {
            // a multipart upload's ETag is "<md5 of part md5s>-<part count>"; a single PUT's is a plain MD5
            String multipart = raw.statObject(StatObjectArgs.builder().bucket("mates-test").object("big/blob").build()).etag();
            String single = raw.statObject(StatObjectArgs.builder().bucket("mates-test").object("small/blob").build()).etag();
            assertTrue(multipart.endsWith("-2"), multipart);
            assertFalse(single.contains("-"), single);
        }
    }

    @Test
    void anObjectAboveTheLimitIsRefusedBeforeItIsRead() {
        store.put("big/object.bin", new byte[4096]);
        try (S3ObjectStore small = new S3ObjectStore(s3.endpoint(), s3.accessKey(), s3.secretKey(), "mates-test", s3.region())
                .maxObjectBytes(1024)) {
            S3ObjectStore.ObjectTooLargeException e = assertThrows(S3ObjectStore.ObjectTooLargeException.class,
                    () -> small.get("big/object.bin"));
            assertTrue(e.getMessage().contains("'big/object.bin' is 4096 bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("mates.object-store.max-object-bytes"), e.getMessage());
            store.put("big/small.bin", new byte[1024]);
            assertEquals(1024, small.get("big/small.bin").orElseThrow().length, "at the limit: read");
        }
    }

    @Test
    void refAndKeyOf() {
        assertEquals("s3://mates-test/x/y.bin", store.ref("x/y.bin"));
        assertEquals(Optional.of("x/y.bin"), S3ObjectStore.keyOf(store.ref("x/y.bin"), "mates-test"));
        assertEquals(Optional.empty(), S3ObjectStore.keyOf("s3://other/x/y.bin", "mates-test"));
        assertEquals(Optional.empty(), S3ObjectStore.keyOf("/local/path", "mates-test"));
        assertEquals(Optional.empty(), S3ObjectStore.keyOf("s3://mates-test/", "mates-test"));
        assertThrows(IllegalArgumentException.class,
                () -> new S3ObjectStore(s3.endpoint(), "k", "s", "b1", "us-east-1")); // bucket names need 3+ chars
    }

    @Test
    void ensureBucketRacesAreHarmless() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<?>> fs = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    try (S3ObjectStore s = new S3ObjectStore(s3.endpoint(), s3.accessKey(), s3.secretKey(),
                            "raced-bucket", s3.region())) {
                        s.ensureBucket();
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) f.get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        try (S3ObjectStore s = new S3ObjectStore(s3.endpoint(), s3.accessKey(), s3.secretKey(), "raced-bucket",
                s3.region())) {
            s.ping();
            s.put("k", utf8("v"));
            assertArrayEquals(utf8("v"), s.get("k").orElseThrow());
        }
    }

    @Test
    void pingPassesOnLiveStoreAndFailsForMissingBucket() {
        store.ping();
        try (S3ObjectStore s = new S3ObjectStore(s3.endpoint(), s3.accessKey(), s3.secretKey(), "never-created",
                s3.region())) {
            StoreUnavailableException e = assertThrows(StoreUnavailableException.class, s::ping);
            assertTrue(e.getMessage().contains("never-created"), e.getMessage());
            IllegalStateException put = assertThrows(IllegalStateException.class, () -> s.put("k", utf8("v")));
            assertTrue(put.getMessage().contains("ensureBucket"), put.getMessage());
        }
    }

    @Test
    void wrongCredentialsAreNotUnavailability() {
        try (S3ObjectStore s = new S3ObjectStore(s3.endpoint(), s3.accessKey(), "wrong-secret", "mates-test",
                s3.region())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.get("a/b/one.bin"));
            assertTrue(e.getMessage().contains("a/b/one.bin"), e.getMessage());
        }
    }

    @Test
    void closedPortGivesStoreUnavailable() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0)) {
            port = ss.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + port;
        try (S3ObjectStore s = new S3ObjectStore(endpoint, "k", "s", "some-bucket", "us-east-1")) {
            StoreUnavailableException e = assertThrows(StoreUnavailableException.class, () -> s.put("x", utf8("y")));
            assertTrue(e.getMessage().contains(endpoint) && e.getMessage().contains("some-bucket"), e.getMessage());
            assertThrows(StoreUnavailableException.class, () -> s.get("x"));
            assertThrows(StoreUnavailableException.class, () -> s.exists("x"));
            assertThrows(StoreUnavailableException.class, () -> s.list(""));
            assertThrows(StoreUnavailableException.class, s::ping);
            assertThrows(StoreUnavailableException.class, s::ensureBucket);
        }
    }
}
