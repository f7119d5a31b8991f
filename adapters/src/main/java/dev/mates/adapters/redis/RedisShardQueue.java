package dev.mates.adapters.redis;

import dev.mates.engine.store.Retry;
import dev.mates.engine.store.StoreUnavailableException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XAutoClaimParams;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.StreamGroupInfo;
import redis.clients.jedis.resps.StreamPendingEntry;

/**
 * A work queue of shard tasks on a Redis Stream read through one consumer group (Redis 6.2 or later).
 *
 * <p>Every entry names a unique {@code task} id and a {@code done_set}, the Redis set where completed task ids are
 * recorded. Guarantees:
 * <ul>
 *   <li><b>At-least-once delivery.</b> An entry stays pending in the group until it is completed or dead-lettered.
 *       A worker that dies or stalls loses its claim: once an entry has been idle for {@code claimIdleMillis}, the
 *       next {@link #claim} by any consumer takes it over (XAUTOCLAIM) before reading new entries. A live worker
 *       keeps its claim by {@link #renew renewing} it (a lease heartbeat that counts no delivery).</li>
 *   <li><b>Counted once.</b> {@link #complete} adds the task id to its done set (SADD) before acknowledging; only the
 *       first completion of a task returns {@code true}, even when two workers raced on the same task, so a caller
 *       that counts only {@code true} results counts each task exactly once. A task already in its done set is
 *       acknowledged and skipped by {@link #claim}, never handed out again.</li>
 *   <li><b>Bounded retries.</b> An entry delivered more than {@code maxDeliveries} times, or failed on its
 *       {@code maxDeliveries}-th delivery, is moved to the dead-letter stream (its fields plus {@code reason},
 *       {@code deliveries}, {@code original_id}, {@code last_consumer}) and acknowledged, atomically (one Lua
 *       script), so it is dead-lettered once and not handed out again. Its task is added to the done set's dead set
 *       ({@code done_set + ":dead"}, {@link #deadTasks}), so a waiting caller need not scan the dead-letter stream.</li>
 *   <li><b>Bounded storage.</b> Completed and dead-lettered entries are deleted from the stream (XDEL), done and
 *       dead sets expire a while after their last change ({@link #withDoneTtl}, or {@link #forget} them), and the
 *       dead-letter stream is capped at about {@value #DEAD_LETTER_MAX} entries.</li>
 *   <li><b>Outages.</b> With {@link #withRetry} every operation rides out a lost connection within the policy's
 *       outage budget, then throws {@link StoreUnavailableException} or {@link Retry.OutageException}.</li>
 * </ul>
 * The queue does not own the pool: close the {@link JedisPooled} yourself. Instances are thread-safe.
 */
public final class RedisShardQueue {
    /** Field naming the unique task id of an entry. */
    public static final String TASK = "task";
    /** Field naming the Redis set where completed task ids of an entry are recorded. */
    public static final String DONE_SET = "done_set";

    /**
     * XACK and XDEL the entry; only if it was still pending, XADD its dead-letter copy (the dead-letter stream capped
     * near {@code ARGV[3]} entries) and record its task ARGV[5] in the done set's dead set (KEYS[3], expiring after ARGV[4]
     * seconds). Returns 1 if it moved it.
     */
    private static final String DEAD_LETTER_SCRIPT = """
            if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
              redis.call('XDEL', KEYS[1], ARGV[2])
              redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 6))
              redis.call('SADD', KEYS[3], ARGV[5])
              redis.call('EXPIRE', KEYS[3], ARGV[4])
              return 1
            end
            return 0
            """;
    /** SADD the task to its done set (expiring after ARGV[4] s), then XACK and XDEL the entry. Returns SADD's answer. */
    private static final String COMPLETE_SCRIPT = """
            local first = redis.call('SADD', KEYS[2], ARGV[3])
            redis.call('EXPIRE', KEYS[2], ARGV[4])
            redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            redis.call('XDEL', KEYS[1], ARGV[2])
            return first
            """;
    /** XACK and XDEL an entry whose task is already done. */
    private static final String ACK_DELETE_SCRIPT = """
            redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            return redis.call('XDEL', KEYS[1], ARGV[2])
            """;
    /**
     * Renews a claim: only while ARGV[3] still holds the pending entry ARGV[2], XCLAIM it to itself with min-idle 0
     * and JUSTID, which resets its idle time without counting a delivery. 1 if renewed, 0 if lost.
     */
    private static final String RENEW_SCRIPT = """
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
            if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
            redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
            return 1
            """;
    /** Gives a claim back: while ARGV[3] holds entry ARGV[2], sets its idle time to ARGV[4] ms so any consumer takes it over now. */
    private static final String RELEASE_SCRIPT = """
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
            if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
            redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'IDLE', ARGV[4], 'JUSTID')
            return 1
            """;
    /** Suffix of the set that records the dead-lettered tasks of a done set. */
    public static final String DEAD_SUFFIX = ":dead";
    /** Dead-letter entries kept (approximately): the stream is trimmed beyond that. */
    public static final long DEAD_LETTER_MAX = 10_000;
    private static final int LAG_PAGE = 1_000;

    private final JedisPooled jedis;
    private final String stream;
    private final String group;
    private final String deadLetterStream;
    private final int maxDeliveries;
    private final long claimIdleMillis;
    private final Retry retry;
    private final long doneTtlSeconds;

    /** A claimed entry: its stream id, its fields, and how many times it has been delivered (1 the first time). */
    public record Claim(String id, Map<String, String> fields, long deliveries) {
        public Claim {
            fields = Map.copyOf(fields);
        }

        public String task() {
            return fields.get(TASK);
        }

        public String doneSet() {
            return fields.get(DONE_SET);
        }
    }

    /**
     * @param maxDeliveries   deliveries allowed per entry (at least 1) before it is dead-lettered
     * @param claimIdleMillis how long an entry must sit unacknowledged before another consumer may take it over
     */
    public RedisShardQueue(JedisPooled jedis, String stream, String group, String deadLetterStream, int maxDeliveries,
                           long claimIdleMillis) {
        this.jedis = Objects.requireNonNull(jedis, "jedis");
        this.stream = requireName(stream, "stream");
        this.group = requireName(group, "group");
        this.deadLetterStream = requireName(deadLetterStream, "deadLetterStream");
        if (deadLetterStream.equals(stream)) throw new IllegalArgumentException("dead-letter stream must differ from the stream");
        if (maxDeliveries < 1) throw new IllegalArgumentException("maxDeliveries must be >= 1, got " + maxDeliveries);
        if (claimIdleMillis < 0) throw new IllegalArgumentException("claimIdleMillis must be >= 0, got " + claimIdleMillis);
        this.maxDeliveries = maxDeliveries;
        this.claimIdleMillis = claimIdleMillis;
        this.retry = Retry.none();
        this.doneTtlSeconds = DEFAULT_DONE_TTL.toSeconds();
    }

    private RedisShardQueue(RedisShardQueue q, Retry retry, long doneTtlSeconds) {
        this.jedis = q.jedis;
        this.stream = q.stream;
        this.group = q.group;
        this.deadLetterStream = q.deadLetterStream;
        this.maxDeliveries = q.maxDeliveries;
        this.claimIdleMillis = q.claimIdleMillis;
        this.retry = Objects.requireNonNull(retry, "retry");
        if (doneTtlSeconds < 1) throw new IllegalArgumentException("done-set TTL must be >= 1 s, got " + doneTtlSeconds);
        this.doneTtlSeconds = doneTtlSeconds;
    }

    /** How long a done set (and its dead set) lives after its last change, unless {@link #forget} removes it first. */
    public static final java.time.Duration DEFAULT_DONE_TTL = java.time.Duration.ofDays(7);

    /** This queue with every operation retried on a lost connection, within the policy's outage budget. */
    public RedisShardQueue withRetry(Retry r) {
        return new RedisShardQueue(this, r, doneTtlSeconds);
    }

    /** This queue with done sets expiring {@code ttl} after their last change. */
    public RedisShardQueue withDoneTtl(java.time.Duration ttl) {
        return new RedisShardQueue(this, retry, ttl.toSeconds());
    }

    public long claimIdleMillis() {
        return claimIdleMillis;
    }

    private static String requireName(String s, String what) {
        if (s == null || s.isBlank()) throw new IllegalArgumentException(what + " must not be blank");
        return s;
    }

    public String stream() {
        return stream;
    }

    public String group() {
        return group;
    }

    public String deadLetterStream() {
        return deadLetterStream;
    }

    /**
     * Creates the consumer group (and the stream if missing) reading from the start of the stream, so entries
     * enqueued before the group existed are delivered too. Does nothing if the group exists.
     */
    public void ensureGroup() {
        run("creating the group", () -> {
            try {
                jedis.xgroupCreate(stream, group, new StreamEntryID(0, 0), true);
            } catch (JedisDataException e) {
                if (e.getMessage() == null || !e.getMessage().startsWith("BUSYGROUP")) throw e;
            }
            return null;
        });
    }

    /**
     * Appends a task entry (XADD) and returns its id. {@code fields} must hold non-blank {@value #TASK} and
     * {@value #DONE_SET} fields.
     */
    public String enqueue(Map<String, String> fields) {
        Objects.requireNonNull(fields, "fields");
        for (String f : List.of(TASK, DONE_SET)) {
            String v = fields.get(f);
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException("queue entry needs a non-blank '" + f + "' field, got " + fields);
            }
        }
        return run("enqueueing " + fields.get(TASK), () -> jedis.xadd(stream, XAddParams.xAddParams(), fields).toString());
    }

    /**
     * Claims one entry for {@code consumer}: first an entry idle for at least {@code claimIdleMillis} (taken over
     * from a dead or slow worker), else a new entry, waiting up to {@code blockMillis} for one ({@code <= 0}: do not
     * wait). Entries past {@code maxDeliveries} are dead-lettered and entries whose task is already done are
     * acknowledged; both are skipped. Empty when there is nothing to hand out.
     */
    public Optional<Claim> claim(String consumer, long blockMillis) {
        requireName(consumer, "consumer");
        return run("claiming for " + consumer, () -> doClaim(consumer, blockMillis));
    }

    private Optional<Claim> doClaim(String consumer, long blockMillis) {
        while (true) {
            List<StreamEntry> taken = autoclaimOne(consumer);
            StreamEntry e = taken.isEmpty() ? null : taken.get(0);
            if (e != null && e.getFields() != null) {
                long deliveries = deliveries(e.getID());
                if (deliveries < 0) continue; // acknowledged by someone else in between
                if (deliveries > maxDeliveries) {
                    deadLetter(e.getID().toString(), e.getFields(), deliveries, consumer,
                            "not completed after " + maxDeliveries + " deliveries (worker died or timed out)");
                    continue;
                }
                if (alreadyDone(e)) continue;
                return Optional.of(new Claim(e.getID().toString(), e.getFields(), deliveries));
            }
            if (!taken.isEmpty()) continue; // an entry deleted from the stream but still pending: look again

            XReadGroupParams p = XReadGroupParams.xReadGroupParams().count(1);
            if (blockMillis > 0) p.block((int) Math.min(blockMillis, Integer.MAX_VALUE));
            List<Map.Entry<String, List<StreamEntry>>> read = jedis.xreadGroup(group, consumer, p,
                    Map.of(stream, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
            if (read == null || read.isEmpty() || read.get(0).getValue() == null || read.get(0).getValue().isEmpty()) {
                return Optional.empty();
            }
            StreamEntry n = read.get(0).getValue().get(0);
            if (alreadyDone(n)) continue;
            return Optional.of(new Claim(n.getID().toString(), n.getFields(), 1));
        }
    }

    /**
     * Records the task as done (SADD to its done set), then acknowledges the entry. Returns true when this call was
     * the first to complete the task: count only those.
     */
    public boolean complete(Claim c) {
        Objects.requireNonNull(c, "claim");
        String doneSet = requireField(c, DONE_SET);
        String task = requireField(c, TASK);
        return run("completing " + task, () -> ((Number) jedis.eval(COMPLETE_SCRIPT, List.of(stream, doneSet),
                List.of(group, c.id(), task, Long.toString(doneTtlSeconds)))).longValue() == 1);
    }

    /**
     * Renews {@code consumer}'s claim on {@code c} (its idle time starts again; no delivery is counted), so a live
     * worker keeps a shard it works on for longer than the claim-idle time. False when the claim was lost (taken over
     * after it sat idle, completed or dead-lettered): the worker may finish, its completion is counted at most once.
     */
    public boolean renew(Claim c, String consumer) {
        Objects.requireNonNull(c, "claim");
        requireName(consumer, "consumer");
        return run("renewing " + c.task(), () -> ((Number) jedis.eval(RENEW_SCRIPT, List.of(stream),
                List.of(group, c.id(), consumer))).longValue() == 1);
    }

    /**
     * Reports a failed attempt. On the entry's {@code maxDeliveries}-th delivery (or later) it is dead-lettered now
     * with {@code reason}; otherwise it stays pending and is claimed again once idle for {@code claimIdleMillis}.
     */
    public void fail(Claim c, String reason) {
        Objects.requireNonNull(c, "claim");
        if (c.deliveries() < maxDeliveries) return;
        run("dead-lettering " + c.task(), () -> {
            String consumer = pendingConsumer(c.id());
            deadLetter(c.id(), c.fields(), c.deliveries(), consumer == null ? "" : consumer,
                    reason == null || reason.isBlank() ? "failed" : reason);
            return null;
        });
    }

    /**
     * Gives back a claim that {@code consumer} will not finish (a worker shutting down): the entry stays pending but
     * counts as idle, so the next {@link #claim} of any consumer takes it over at once. No delivery is counted for
     * the give-back itself. False when {@code consumer} no longer held it.
     */
    public boolean release(Claim c, String consumer) {
        Objects.requireNonNull(c, "claim");
        requireName(consumer, "consumer");
        return run("releasing " + c.task(), () -> ((Number) jedis.eval(RELEASE_SCRIPT, List.of(stream),
                List.of(group, c.id(), consumer, Long.toString(claimIdleMillis)))).longValue() == 1);
    }

    /** Entries delivered to the group and not yet acknowledged (XPENDING summary). */
    public long pending() {
        return run("reading pending", () -> jedis.xpending(stream, group).getTotal());
    }

    /** Entries in the stream (XLEN), acknowledged ones included. */
    public long length() {
        return run("reading length", () -> jedis.xlen(stream));
    }

    /**
     * Entries not yet delivered to the group. Uses the {@code lag} that XINFO GROUPS reports on Redis 7+; where it is
     * absent (Redis 6.2) or unknown, counts the entries after the group's last-delivered id with paged XRANGE
     * (exclusive start), which costs O(lag).
     */
    public long lag() {
        return run("reading lag", this::doLag);
    }

    private long doLag() {
        StreamGroupInfo info = null;
        for (StreamGroupInfo g : jedis.xinfoGroups(stream)) {
            if (group.equals(g.getName())) info = g;
        }
        if (info == null) throw new IllegalStateException("consumer group '" + group + "' does not exist on stream '"
                + stream + "'; call ensureGroup()");
        Object lag = info.getGroupInfo().get("lag");
        if (lag instanceof Number n) return n.longValue();
        StreamEntryID last = info.getLastDeliveredId();
        String from = last == null ? "-" : "(" + last;
        long count = 0;
        while (true) {
            List<StreamEntry> page = jedis.xrange(stream, from, "+", LAG_PAGE);
            count += page.size();
            if (page.size() < LAG_PAGE) return count;
            from = "(" + page.get(page.size() - 1).getID();
        }
    }

    /** All entries of the dead-letter stream, oldest first: the original fields plus the dead-letter fields. */
    public List<Map<String, String>> deadLetters() {
        return run("reading dead letters", this::doDeadLetters);
    }

    private List<Map<String, String>> doDeadLetters() {
        List<Map<String, String>> out = new ArrayList<>();
        String from = "-";
        while (true) {
            List<StreamEntry> page = jedis.xrange(deadLetterStream, from, "+", LAG_PAGE);
            for (StreamEntry e : page) out.add(new LinkedHashMap<>(e.getFields()));
            if (page.size() < LAG_PAGE) return out;
            from = "(" + page.get(page.size() - 1).getID();
        }
    }

    /** Number of tasks recorded as done in {@code doneSet}. */
    public long doneCount(String doneSet) {
        return run("reading " + doneSet, () -> jedis.scard(doneSet));
    }

    public boolean isDone(String doneSet, String task) {
        return run("reading " + doneSet, () -> jedis.sismember(doneSet, task));
    }

    /** The tasks of {@code doneSet} that were dead-lettered (O(dead), no scan of the dead-letter stream). */
    public java.util.Set<String> deadTasks(String doneSet) {
        return run("reading " + doneSet + DEAD_SUFFIX, () -> java.util.Set.copyOf(jedis.smembers(doneSet + DEAD_SUFFIX)));
    }

    /** The newest dead-letter entry of {@code task} (its fields, reason and deliveries included), if still kept. */
    public Optional<Map<String, String>> deadLetter(String task) {
        return run("reading dead letters", () -> {
            String to = "+";
            while (true) {
                List<StreamEntry> page = jedis.xrevrange(deadLetterStream, to, "-", LAG_PAGE);
                for (StreamEntry e : page) {
                    if (task.equals(e.getFields().get(TASK))) return Optional.of(Map.copyOf(e.getFields()));
                }
                if (page.size() < LAG_PAGE) return Optional.empty();
                to = "(" + page.get(page.size() - 1).getID();
            }
        });
    }

    /** Whether the entry {@code id} is still in the stream (not completed, dead-lettered or lost). */
    public boolean inStream(String id) {
        return run("looking up entry " + id, () -> !jedis.xrange(stream, id, id, 1).isEmpty());
    }

    /** Deletes a done set and its dead set once their results have been read. */
    public void forget(String doneSet) {
        run("deleting " + doneSet, () -> jedis.del(doneSet, doneSet + DEAD_SUFFIX));
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Runs one queue operation: a lost connection becomes {@link StoreUnavailableException}, a missing group a hint. */
    private <T> T run(String doing, Supplier<T> op) {
        return retry.call(doing + " on stream '" + stream + "'", () -> runOnce(doing, op));
    }

    private <T> T runOnce(String doing, Supplier<T> op) {
        try {
            return op.get();
        } catch (JedisException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof JedisConnectionException) {
                    throw new StoreUnavailableException("Redis unavailable while " + doing + " on stream '" + stream
                            + "': " + e.getMessage() + ". Check that redis-server is running and reachable.", e);
                }
            }
            if (e.getMessage() != null && e.getMessage().startsWith("NOGROUP")) {
                throw new IllegalStateException("consumer group '" + group + "' does not exist on stream '" + stream
                        + "' (while " + doing + "); call ensureGroup() first", e);
            }
            throw new IllegalStateException("Redis error while " + doing + " on stream '" + stream + "': "
                    + e.getMessage(), e);
        }
    }

    /**
     * XAUTOCLAIM (COUNT 1) of the first entry idle for at least {@code claimIdleMillis}, scanning the pending list
     * from 0-0 and following the returned cursor until it wraps to 0-0: Redis examines only about 10 pending entries
     * per call, so a single call could miss an idle entry behind busy ones. Empty when none is idle.
     */
    private List<StreamEntry> autoclaimOne(String consumer) {
        StreamEntryID start = new StreamEntryID(0, 0);
        while (true) {
            Map.Entry<StreamEntryID, List<StreamEntry>> r = jedis.xautoclaim(stream, group, consumer,
                    claimIdleMillis, start, XAutoClaimParams.xAutoClaimParams().count(1));
            if (r == null) return List.of();
            if (r.getValue() != null && !r.getValue().isEmpty()) return r.getValue();
            StreamEntryID next = r.getKey();
            if (next == null || (next.getTime() == 0 && next.getSequence() == 0) || next.compareTo(start) <= 0) {
                return List.of();
            }
            start = next;
        }
    }

    /** Delivery count of a pending entry, or -1 if it is no longer pending. */
    private long deliveries(StreamEntryID id) {
        List<StreamPendingEntry> p = jedis.xpending(stream, group, XPendingParams.xPendingParams(id, id, 1));
        return p.isEmpty() ? -1 : p.get(0).getDeliveredTimes();
    }

    private String pendingConsumer(String id) {
        StreamEntryID sid = new StreamEntryID(id);
        List<StreamPendingEntry> p = jedis.xpending(stream, group, XPendingParams.xPendingParams(sid, sid, 1));
        return p.isEmpty() ? null : p.get(0).getConsumerName();
    }

    /** Acknowledges an entry whose task is already in its done set; returns whether it did. */
    private boolean alreadyDone(StreamEntry e) {
        String task = e.getFields().get(TASK);
        String doneSet = e.getFields().get(DONE_SET);
        if (task == null || doneSet == null || !jedis.sismember(doneSet, task)) return false;
        jedis.eval(ACK_DELETE_SCRIPT, List.of(stream), List.of(group, e.getID().toString()));
        return true;
    }

    private void deadLetter(String id, Map<String, String> fields, long deliveries, String consumer, String reason) {
        Map<String, String> dl = new LinkedHashMap<>(fields);
        dl.put("reason", reason);
        dl.put("deliveries", Long.toString(deliveries));
        dl.put("original_id", id);
        dl.put("last_consumer", consumer);
        String doneSet = fields.getOrDefault(DONE_SET, stream + ":orphans");
        List<String> args = new ArrayList<>(5 + 2 * dl.size());
        args.add(group);
        args.add(id);
        args.add(Long.toString(DEAD_LETTER_MAX));
        args.add(Long.toString(doneTtlSeconds));
        args.add(fields.getOrDefault(TASK, id));
        dl.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        jedis.eval(DEAD_LETTER_SCRIPT, List.of(stream, deadLetterStream, doneSet + DEAD_SUFFIX), args);
    }

    private static String requireField(Claim c, String field) {
        String v = c.fields().get(field);
        if (v == null || v.isBlank()) throw new IllegalArgumentException("claim " + c.id() + " has no '" + field + "' field");
        return v;
    }
}
