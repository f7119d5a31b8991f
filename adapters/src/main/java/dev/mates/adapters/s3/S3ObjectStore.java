package dev.mates.adapters.s3;

import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StoreUnavailableException;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.ServerException;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;

/**
 * {@link ObjectStore} over any S3-compatible server (AWS S3, MinIO, S3Proxy) through the MinIO Java SDK.
 *
 * <p>Guarantees:
 * <ul>
 *   <li><b>Atomic writes.</b> {@link #put} is a single S3 PUT for objects of at most {@link #PART_SIZE} (16 MiB)
 *       and a multipart upload (16 MiB parts) for larger ones. S3 makes an object visible only when its PUT or its
 *       CompleteMultipartUpload succeeds, so a reader sees the old object, the new one, or none, never half of
 *       one. A failed multipart upload leaves no object (its parts are aborted or expire server-side).</li>
 *   <li><b>Fail fast when the store is down.</b> Connecting times out after 5 s; refused connections, timeouts,
 *       other I/O failures and HTTP 5xx / SlowDown answers become {@link StoreUnavailableException} (retryable),
 *       naming the endpoint and bucket. Any other error (access denied, missing bucket, bad request) is an
 *       {@link IllegalStateException} naming the key.</li>
 *   <li><b>No stray threads.</b> The HTTP client runs on daemon threads, so it never keeps a JVM alive;
 *       {@link #close()} releases its threads and pooled connections at once.</li>
 * </ul>
 * {@link #list} is recursive and sorted; {@link #ref} is {@code s3://bucket/key}, and {@link #keyOf} turns such a
 * reference back into a key. Instances are thread-safe.
 */
public final class S3ObjectStore implements ObjectStore, AutoCloseable {
    /** Multipart part size: objects larger than this are uploaded in parts of this size. */
    public static final long PART_SIZE = 16L * 1024 * 1024;

    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration IO_TIMEOUT = Duration.ofSeconds(60);

    private static final Set<String> NOT_FOUND_CODES = Set.of("NoSuchKey", "NoSuchObject", "ResourceNotFound");
    private static final Set<String> RETRYABLE_CODES =
            Set.of("SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout");
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final String endpoint;
    private final String bucket;
    private final String region;
    private final MinioClient client;
    /** Objects are read into memory whole: a larger one is refused before its body is read. */
    private volatile long maxObjectBytes = Integer.MAX_VALUE - 64L;

    /**
     * @param endpoint  e.g. {@code http://127.0.0.1:9000} or {@code https://s3.eu-west-1.amazonaws.com}
     * @param region    bucket region (e.g. {@code us-east-1}); null lets the SDK look it up
     */
    public S3ObjectStore(String endpoint, String accessKey, String secretKey, String bucket, String region) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.bucket = Objects.requireNonNull(bucket, "bucket");
        this.region = region == null || region.isBlank() ? null : region;
        try {
            BucketExistsArgs.builder().bucket(bucket);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid S3 bucket name '" + bucket + "': " + e.getMessage(), e);
        }
        MinioClient.Builder b = MinioClient.builder()
                .endpoint(endpoint)
                .credentials(Objects.requireNonNull(accessKey, "accessKey"), Objects.requireNonNull(secretKey, "secretKey"))
                .httpClient(newHttpClient(), true);
        if (this.region != null) b.region(this.region);
        try {
            this.client = b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid S3 endpoint '" + endpoint + "': " + e.getMessage(), e);
        }
    }

    /**
     * An OkHttp client with short connect timeout whose dispatcher threads are daemons (OkHttp's default dispatcher
     * pool is non-daemon and would keep the JVM alive for a minute after the last call).
     */
    static OkHttpClient newHttpClient() {
        ExecutorService exec = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "mates-s3-http-" + THREADS.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        return new OkHttpClient.Builder()
                .dispatcher(new Dispatcher(exec))
                .connectTimeout(CONNECT_TIMEOUT)
                .readTimeout(IO_TIMEOUT)
                .writeTimeout(IO_TIMEOUT)
                .protocols(List.of(Protocol.HTTP_1_1))
                .build();
    }

    public String endpoint() {
        return endpoint;
    }

    public String bucket() {
        return bucket;
    }

    /** Creates the bucket if it does not exist. Safe when several processes race to create it. */
    public void ensureBucket() {
        try {
            if (client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) return;
            MakeBucketArgs.Builder mb = MakeBucketArgs.builder().bucket(bucket);
            if (region != null) mb.region(region);
            client.makeBucket(mb.build());
        } catch (ErrorResponseException e) {
            String code = e.errorResponse().code();
            if ("BucketAlreadyOwnedByYou".equals(code) || "BucketAlreadyExists".equals(code)) return;
            throw translate(e, "creating bucket");
        } catch (Exception e) {
            throw translate(e, "creating bucket");
        }
    }

    /**
     * Cheap readiness probe (a HEAD on the bucket). Throws {@link StoreUnavailableException} when the server cannot
     * be reached, answers 5xx, or the bucket does not exist (nothing could be stored until it is created).
     */
    public void ping() {
        boolean exists;
        try {
            exists = client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build());
        } catch (Exception e) {
            RuntimeException t = translate(e, "checking bucket");
            if (t instanceof StoreUnavailableException) throw t;
            throw new StoreUnavailableException("S3 store " + where() + " answered the readiness probe with an error: "
                    + t.getMessage(), e);
        }
        if (!exists) {
            throw new StoreUnavailableException("S3 bucket '" + bucket + "' does not exist at " + endpoint
                    + "; create it (S3ObjectStore.ensureBucket) or check the bucket name", null);
        }
    }

    @Override
    public void put(String key, byte[] bytes) {
        checkKey(key);
        Objects.requireNonNull(bytes, "bytes");
        try {
            client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                    .stream(new ByteArrayInputStream(bytes), bytes.length, PART_SIZE)
                    .contentType("application/octet-stream").build());
        } catch (Exception e) {
            throw translate(e, "writing '" + key + "'");
        }
    }

    @Override
    public Optional<byte[]> get(String key) {
        checkKey(key);
        try (GetObjectResponse in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
            String length = in.headers().get("Content-Length");
            if (length != null && Long.parseLong(length.strip()) > maxObjectBytes) {
                throw new ObjectTooLargeException("object '" + key + "' is " + length.strip() + " bytes, more than the "
                        + maxObjectBytes + " an object may have here (mates.object-store.max-object-bytes)");
            }
            return Optional.of(in.readAllBytes());
        } catch (ObjectTooLargeException e) {
            throw e;
        } catch (ErrorResponseException e) {
            if (isNotFound(e)) return Optional.empty();
            throw translate(e, "reading '" + key + "'");
        } catch (Exception e) {
            throw translate(e, "reading '" + key + "'");
        }
    }

    /** Objects larger than this are refused by {@link #get} before their bytes are read. */
    public S3ObjectStore maxObjectBytes(long max) {
        if (max <= 0) throw new IllegalArgumentException("max object bytes must be > 0, got " + max);
        this.maxObjectBytes = Math.min(max, Integer.MAX_VALUE - 64L);
        return this;
    }

    /** An object above {@link #maxObjectBytes(long)}: bad input, not an outage. */
    public static final class ObjectTooLargeException extends IllegalArgumentException {
        public ObjectTooLargeException(String message) {
            super(message);
        }
    }

    @Override
    public boolean exists(String key) {
        checkKey(key);
        try {
            client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
            return true;
        } catch (ErrorResponseException e) {
            if (isNotFound(e)) return false;
            throw translate(e, "checking '" + key + "'");
        } catch (Exception e) {
            throw translate(e, "checking '" + key + "'");
        }
    }

    @Override
    public List<String> list(String prefix) {
        String p = prefix == null ? "" : prefix;
        List<String> keys = new ArrayList<>();
        try {
            for (Result<Item> r : client.listObjects(
                    ListObjectsArgs.builder().bucket(bucket).prefix(p).recursive(true).build())) {
                Item item = r.get();
                if (!item.isDir()) keys.add(item.objectName());
            }
        } catch (Exception e) {
            throw translate(e, "listing '" + p + "'");
        }
        Collections.sort(keys);
        return keys;
    }

    /** Keys under {@code prefix} with their sizes in bytes, sorted by key: what a reader checks before downloading. */
    public java.util.SortedMap<String, Long> sizes(String prefix) {
        String p = prefix == null ? "" : prefix;
        java.util.SortedMap<String, Long> out = new java.util.TreeMap<>();
        try {
            for (Result<Item> r : client.listObjects(
                    ListObjectsArgs.builder().bucket(bucket).prefix(p).recursive(true).build())) {
                Item item = r.get();
                if (!item.isDir()) out.put(item.objectName(), item.size());
            }
        } catch (Exception e) {
            throw translate(e, "listing '" + p + "'");
        }
        return out;
    }

    @Override
    public String ref(String key) {
        checkKey(key);
        return "s3://" + bucket + "/" + key;
    }

    /**
     * The key of an {@code s3://bucket/key} reference when it points into {@code bucket}; empty for a reference to
     * another bucket, a non-S3 reference, or one without a key.
     */
    public static Optional<String> keyOf(String ref, String bucket) {
        if (ref == null || bucket == null) return Optional.empty();
        String head = "s3://" + bucket + "/";
        if (!ref.startsWith(head) || ref.length() == head.length()) return Optional.empty();
        return Optional.of(ref.substring(head.length()));
    }

    /** Releases the HTTP client's threads and pooled connections. The store is unusable afterwards. */
    @Override
    public void close() {
        try {
            client.close();
        } catch (Exception e) {
            // closing only shuts an executor down and evicts idle connections
        }
    }

    private String where() {
        return "at " + endpoint + " (bucket '" + bucket + "')";
    }

    private static void checkKey(String key) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("object key must not be empty");
    }

    private static boolean isNotFound(ErrorResponseException e) {
        String code = e.errorResponse().code();
        return NOT_FOUND_CODES.contains(code) || (e.response() != null && e.response().code() == 404
                && !"NoSuchBucket".equals(code));
    }

    /** Maps an SDK failure to {@link StoreUnavailableException} (retryable) or {@link IllegalStateException}. */
    RuntimeException translate(Exception e, String doing) {
        if (e instanceof StoreUnavailableException u) return u;
        if (e instanceof InterruptedException) Thread.currentThread().interrupt();
        if (isUnavailable(e)) {
            return new StoreUnavailableException("S3 store unavailable " + where() + " while " + doing + ": "
                    + describe(e) + ". Check that the S3 server is running and reachable at that endpoint"
                    + " (MinIO/S3Proxy up? right host and port? network?).", e);
        }
        if (e instanceof ErrorResponseException er && "NoSuchBucket".equals(er.errorResponse().code())) {
            return new IllegalStateException("S3 bucket '" + bucket + "' does not exist at " + endpoint + " while "
                    + doing + "; create it with S3ObjectStore.ensureBucket()", e);
        }
        if (e instanceof ErrorResponseException er && ("AccessDenied".equals(er.errorResponse().code())
                || "InvalidAccessKeyId".equals(er.errorResponse().code())
                || "SignatureDoesNotMatch".equals(er.errorResponse().code()))) {
            return new IllegalStateException("S3 store " + where() + " refused the credentials while " + doing + ": "
                    + describe(e) + ". Check the access key and secret key.", e);
        }
        return new IllegalStateException("S3 error " + where() + " while " + doing + ": " + describe(e), e);
    }

    private static boolean isUnavailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof SocketTimeoutException
                    || t instanceof NoRouteToHostException || t instanceof UnknownHostException
                    || t instanceof InterruptedIOException) {
                return true;
            }
            if (t instanceof ServerException se) return se.statusCode() >= 500 || se.statusCode() == 429;
            if (t instanceof ErrorResponseException er) {
                int status = er.response() == null ? 0 : er.response().code();
                return status >= 500 || status == 429 || RETRYABLE_CODES.contains(er.errorResponse().code());
            }
        }
        // Any other transport failure (reset, EOF, broken pipe): the server went away mid-request.
        return e instanceof IOException;
    }

    private static String describe(Throwable e) {
        if (e instanceof ErrorResponseException er) {
            int status = er.response() == null ? 0 : er.response().code();
            return er.errorResponse().code() + " (HTTP " + status + "): " + er.errorResponse().message();
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
