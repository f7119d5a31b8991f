package dev.mates.adapters.redis;

import dev.mates.engine.store.StateStore;
import dev.mates.engine.store.StoreUnavailableException;
import java.net.URI;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.util.JedisURIHelper;

/**
 * {@link StateStore} on Redis hashes, through a pooled Jedis client.
 *
 * <p>Guarantees: every key is stored under {@code keyPrefix + key}; {@link #put} is one {@code HSET} of all the
 * fields, so a concurrent reader sees either none or all of them (fields not named keep their values: put merges);
 * {@link #get} is one {@code HGETALL} and returns an empty map for a missing key. A Redis that cannot be reached or
 * drops the connection gives {@link StoreUnavailableException} (retryable) naming the URI; any other Redis error is
 * an {@link IllegalStateException} naming the key. Instances are thread-safe; {@link #close()} closes the pool when
 * this store created it.
 */
public final class RedisStateStore implements StateStore, AutoCloseable {
    /** Connect and socket timeout of the pools made here: a Redis that is down fails fast. */
    public static final int TIMEOUT_MILLIS = 5_000;

    private final JedisPooled jedis;
    private final String uri;
    private final String prefix;
    private final boolean ownsPool;

    /**
     * @param redisUri  e.g. {@code redis://127.0.0.1:6379} or {@code redis://:password@host:6379/0}
     * @param keyPrefix prepended to every key, e.g. {@code mates:}; may be empty
     */
    public RedisStateStore(String redisUri, String keyPrefix) {
        this(connect(redisUri), redisUri, keyPrefix, true);
    }

    /** Shares an existing pool (not closed by {@link #close()}). */
    public RedisStateStore(JedisPooled jedis, String redisUriForMessages, String keyPrefix) {
        this(jedis, redisUriForMessages, keyPrefix, false);
    }

    private RedisStateStore(JedisPooled jedis, String uri, String keyPrefix, boolean ownsPool) {
        this.jedis = Objects.requireNonNull(jedis, "jedis");
        this.uri = redact(uri);
        this.prefix = keyPrefix == null ? "" : keyPrefix;
        this.ownsPool = ownsPool;
    }

    /** A pool for {@code redisUri} with {@link #TIMEOUT_MILLIS} connect/socket timeouts. */
    public static JedisPooled connect(String redisUri) {
        Objects.requireNonNull(redisUri, "redisUri");
        URI u;
        try {
            u = URI.create(redisUri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid Redis URI '" + redact(redisUri) + "': " + e.getMessage(), e);
        }
        if (!JedisURIHelper.isValid(u)) {
            throw new IllegalArgumentException("invalid Redis URI '" + redact(redisUri)
                    + "': expected redis://host:port (or rediss://, optionally with :password@ and /db)");
        }
        return new JedisPooled(u, TIMEOUT_MILLIS);
    }

    /** The pool, to share it with a {@link RedisShardQueue}. */
    public JedisPooled jedis() {
        return jedis;
    }

    public String keyPrefix() {
        return prefix;
    }

    @Override
    public void put(String key, Map<String, String> fields) {
        Objects.requireNonNull(fields, "fields");
        if (fields.isEmpty()) return;
        String k = prefix + key;
        call("writing '" + k + "'", () -> jedis.hset(k, fields));
    }

    @Override
    public Map<String, String> get(String key) {
        String k = prefix + key;
        return call("reading '" + k + "'", () -> Map.copyOf(jedis.hgetAll(k)));
    }

    @Override
    public void add(String key, String member) {
        String k = prefix + key;
        call("adding to '" + k + "'", () -> jedis.sadd(k, member));
    }

    @Override
    public void remove(String key, String member) {
        String k = prefix + key;
        call("removing from '" + k + "'", () -> jedis.srem(k, member));
    }

    @Override
    public Set<String> members(String key) {
        String k = prefix + key;
        return call("reading '" + k + "'", () -> Set.copyOf(jedis.smembers(k)));
    }

    /** HSET only if the key does not exist, as one script. */
    private static final String CREATE_SCRIPT = """
            if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
            redis.call('HSET', KEYS[1], unpack(ARGV))
            return 1
            """;
    /** SET key owner PX ttl when the key is free or already ours. */
    private static final String LEASE_SCRIPT = """
            local cur = redis.call('GET', KEYS[1])
            if cur == false or cur == ARGV[1] then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              return 1
            end
            return 0
            """;
    private static final String RELEASE_SCRIPT = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
            return 0
            """;

    @Override
    public boolean createIfAbsent(String key, Map<String, String> fields) {
        Objects.requireNonNull(fields, "fields");
        if (fields.isEmpty()) throw new IllegalArgumentException("createIfAbsent needs at least one field");
        String k = prefix + key;
        java.util.List<String> args = new java.util.ArrayList<>();
        fields.forEach((f, v) -> {
            args.add(f);
            args.add(v);
        });
        return call("creating '" + k + "'", () -> ((Number) jedis.eval(CREATE_SCRIPT, java.util.List.of(k), args)).longValue() == 1);
    }

    @Override
    public boolean lease(String key, String owner, long ttlMillis) {
        if (ttlMillis < 1) throw new IllegalArgumentException("lease ttl must be >= 1 ms, got " + ttlMillis);
        String k = prefix + key;
        return call("taking the lease '" + k + "'", () -> ((Number) jedis.eval(LEASE_SCRIPT, java.util.List.of(k),
                java.util.List.of(owner, Long.toString(ttlMillis)))).longValue() == 1);
    }

    @Override
    public void release(String key, String owner) {
        String k = prefix + key;
        call("releasing the lease '" + k + "'", () -> jedis.eval(RELEASE_SCRIPT, java.util.List.of(k), java.util.List.of(owner)));
    }

    /** One Redis call, its failure translated ({@link #translate}). */
    private <T> T call(String doing, Supplier<T> op) {
        try {
            return op.get();
        } catch (RuntimeException e) {
            throw translate(e, doing);
        }
    }

    /** Readiness probe: one PING. Throws {@link StoreUnavailableException} when Redis cannot be reached. */
    public void ping() {
        try {
            String pong = jedis.ping();
            if (!"PONG".equalsIgnoreCase(pong)) {
                throw new StoreUnavailableException("Redis at " + uri + " answered PING with '" + pong + "'", null);
            }
        } catch (RuntimeException e) {
            throw translate(e, "PING");
        }
    }

    @Override
    public void close() {
        if (ownsPool) jedis.close();
    }

    private RuntimeException translate(RuntimeException e, String doing) {
        return translate(e, uri, doing);
    }

    /** Connection failures become {@link StoreUnavailableException}, anything else {@link IllegalStateException}. */
    static RuntimeException translate(RuntimeException e, String uri, String doing) {
        if (e instanceof StoreUnavailableException || e instanceof IllegalArgumentException) return e;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof JedisConnectionException) {
                return new StoreUnavailableException("Redis unavailable at " + uri + " while " + doing + ": "
                        + e.getMessage() + ". Check that redis-server is running and reachable at that URI"
                        + " (host, port, password, network).", e);
            }
        }
        return new IllegalStateException("Redis error at " + uri + " while " + doing + ": " + e.getMessage(), e);
    }

    /** The URI without its user-info, so passwords never reach a log or an error message. */
    static String redact(String uri) {
        if (uri == null) return "null";
        int scheme = uri.indexOf("://");
        int at = uri.lastIndexOf('@');
        if (scheme < 0 || at < scheme) return uri;
        return uri.substring(0, scheme + 3) + "***@" + uri.substring(at + 1);
    }
}
