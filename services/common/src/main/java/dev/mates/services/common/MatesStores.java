package dev.mates.services.common;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.adapters.redis.RedisStateStore;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StateStore;
import dev.mates.engine.store.Retry;
import dev.mates.engine.store.RetryingStores;
import dev.mates.engine.store.StoreUnavailableException;
import io.quarkus.logging.Log;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.enterprise.inject.Typed;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import redis.clients.jedis.JedisPooled;

/**
 * The stores of a service, built from configuration (docs/operations.md lists every key and its env var):
 * the object store (S3/MinIO) for artefacts, Redis for run state and the scoring queue. Beans are created on
 * first use, so a service that never touches Redis never connects to it.
 */
@ApplicationScoped
public class MatesStores {
    @ConfigProperty(name = "mates.object-store.endpoint", defaultValue = "http://127.0.0.1:9000")
    String endpoint;
    @ConfigProperty(name = "mates.object-store.bucket", defaultValue = "mates")
    String bucket;
    /** No defaults: a service without credentials refuses to start ({@link #requireCredentials}). */
    @ConfigProperty(name = "mates.object-store.access-key")
    Optional<String> accessKey;
    @ConfigProperty(name = "mates.object-store.secret-key")
    Optional<String> secretKey;
    @ConfigProperty(name = "mates.object-store.region", defaultValue = "us-east-1")
    String region;
    /** A larger object is refused before it is read (objects are read into memory whole). */
    @ConfigProperty(name = "mates.object-store.max-object-bytes", defaultValue = "1073741824")
    long maxObjectBytes;
    @ConfigProperty(name = "mates.redis.uri", defaultValue = "redis://127.0.0.1:6379")
    String redisUri;
    @ConfigProperty(name = "mates.redis.key-prefix", defaultValue = "mates:")
    String keyPrefix;
    @ConfigProperty(name = "mates.queue.stream", defaultValue = "mates:score:shards")
    String stream;
    @ConfigProperty(name = "mates.queue.group", defaultValue = "scorers")
    String group;
    @ConfigProperty(name = "mates.queue.dead-letter-stream", defaultValue = "mates:score:dead")
    String deadLetter;
    @ConfigProperty(name = "mates.queue.max-deliveries", defaultValue = "3")
    int maxDeliveries;
    @ConfigProperty(name = "mates.queue.claim-idle", defaultValue = "30s")
    Duration claimIdle;
    /** How long a done set lives after its last change (the trainer deletes it once it has read the scores). */
    @ConfigProperty(name = "mates.queue.done-ttl", defaultValue = "7d")
    Duration doneTtl;
    /** Store outages: the first wait, the cap on the wait, and how long one operation is retried before it fails. */
    @ConfigProperty(name = "mates.retry.initial-backoff", defaultValue = "200ms")
    Duration initialBackoff;
    @ConfigProperty(name = "mates.retry.max-backoff", defaultValue = "5s")
    Duration maxBackoff;
    @ConfigProperty(name = "mates.retry.outage-budget", defaultValue = "2m")
    Duration outageBudget;

    /** Every service uses the object store: without its credentials it stops at start-up, naming the setting. */
    void requireCredentials(@Observes @Priority(1) StartupEvent e) {
        requireSet("mates.object-store.access-key", "MATES_OBJECT_STORE_ACCESS_KEY", accessKey);
        requireSet("mates.object-store.secret-key", "MATES_OBJECT_STORE_SECRET_KEY", secretKey);
    }

    private static void requireSet(String key, String env, Optional<String> value) {
        if (value.isEmpty() || value.get().isBlank()) {
            throw new IllegalStateException(key + " is not set: the object store's credentials have no default (env " + env
                    + ", or a Kubernetes Secret; see docs/security.md)");
        }
    }

    /** The retry policy of every store call of this service; retries are logged, the first and then every tenth. */
    @Produces
    @Singleton
    public Retry retry() {
        return Retry.of(initialBackoff, maxBackoff, outageBudget).observedBy((op, attempt, wait, failure) -> {
            if (attempt == 1 || attempt % 10 == 0) {
                Log.warnf("%s failed (attempt %d), retrying in %d ms for up to %s: %s", op, attempt, wait,
                        outageBudget, failure.getMessage());
            }
        });
    }

    /** The object store as the service uses it: S3, with store outages retried ({@link #retry}). */
    @Produces
    @Singleton
    ObjectStore objects(S3ObjectStore s3, Retry retry) {
        return RetryingStores.objects(s3, retry);
    }

    /** The state store as the service uses it: Redis, with store outages retried. */
    @Produces
    @Singleton
    StateStore state(RedisStateStore redis, Retry retry) {
        return RetryingStores.state(redis, retry);
    }

    @Produces
    @Singleton
    @Typed(S3ObjectStore.class)
    S3ObjectStore s3() {
        requireSet("mates.object-store.access-key", "MATES_OBJECT_STORE_ACCESS_KEY", accessKey);
        requireSet("mates.object-store.secret-key", "MATES_OBJECT_STORE_SECRET_KEY", secretKey);
        S3ObjectStore s3 = new S3ObjectStore(endpoint, accessKey.get(), secretKey.get(), bucket, region).maxObjectBytes(maxObjectBytes);
        try {
            s3.ensureBucket();
        } catch (StoreUnavailableException e) {
            // Not fatal: readiness reports DOWN and the bucket is created on a later check.
            Log.warnf("object store not reachable yet: %s", e.getMessage());
        }
        return s3;
    }

    void closeS3(@Disposes S3ObjectStore s3) {
        s3.close();
    }

    @Produces
    @Singleton
    JedisPooled jedis() {
        return RedisStateStore.connect(redisUri);
    }

    void closeJedis(@Disposes JedisPooled jedis) {
        jedis.close();
    }

    @Produces
    @Singleton
    @Typed(RedisStateStore.class)
    RedisStateStore redisState(JedisPooled jedis) {
        return new RedisStateStore(jedis, redisUri, keyPrefix);
    }

    @Produces
    @Singleton
    RedisShardQueue queue(JedisPooled jedis, Retry retry) {
        RedisShardQueue q = new RedisShardQueue(jedis, stream, group, deadLetter, maxDeliveries, claimIdle.toMillis())
                .withRetry(retry).withDoneTtl(doneTtl);
        try {
            q.ensureGroup();
        } catch (RuntimeException e) {
            Log.warnf("scoring queue not reachable yet: %s", e.getMessage());
        }
        return q;
    }

    public String bucket() {
        return bucket;
    }

    public String redisUri() {
        return redisUri;
    }
}
