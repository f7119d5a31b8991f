package dev.mates.loadtest;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Open-loop load at a fixed rate. Request {@code i} is due {@code i / rate} seconds after the start, whether or not
 * the earlier ones have completed, so a server that falls behind shows as queueing (growing latency, errors), not as
 * a client that politely slows down. Latency is measured from the due time, not from when the request actually
 * left: a pacer that was late (a GC pause, a burst to catch up) cannot hide the wait (no coordinated omission).
 *
 * <p>Requests due during the warm-up are sent but not counted. At most {@link Plan#maxInFlight} requests are
 * outstanding; one due beyond that is not sent and counts as dropped (client backlog), so the client never queues
 * without bound. The number of requests is fixed in advance by the plan, and waiting for the last replies is bounded
 * by {@link Plan#drainTimeout}.
 */
public final class OpenLoop {
    /** Requests one rate may plan at the most (its recording holds a few bytes per request). */
    public static final long MAX_REQUESTS = 20_000_000L;
    /** The outcome of a request that was due while {@link Plan#maxInFlight} requests were outstanding: not sent. */
    static final long DROPPED = -1;

    private OpenLoop() {}

    /** What the generator sends: one request per call, started without blocking. */
    public interface Sender {
        /**
         * Starts request number {@code i} and returns at once; calls {@code done} exactly once, on any thread, with its
         * outcome. Must not block: the pacing thread calls it.
         */
        void send(long i, Consumer<Reply> done);
    }

    /**
     * @param code      {@link #OK}, a gRPC status code name (DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED…), or another word
     *                  for a client-side failure
     * @param batchSize the server's model batch the request was scored in (0 when unknown or failed)
     */
    public record Reply(String code, int batchSize) {
        public static final String OK = "OK";
    }

    /**
     * @param rate         requests per second
     * @param warmup       sent, not counted
     * @param duration     the measured window after the warm-up
     * @param maxInFlight  outstanding requests at most; due ones beyond are dropped
     * @param drainTimeout how long to wait for outstanding replies after the last request was sent
     */
    public record Plan(double rate, Duration warmup, Duration duration, int maxInFlight, Duration drainTimeout) {
        public Plan {
            if (!(rate > 0) || Double.isInfinite(rate)) throw new IllegalArgumentException("rate " + rate + ": must be > 0 requests/s");
            if (warmup.isNegative()) throw new IllegalArgumentException("warm-up " + warmup + " is negative");
            if (duration.isNegative() || duration.isZero()) throw new IllegalArgumentException("duration " + duration + ": must be > 0");
            if (maxInFlight < 1) throw new IllegalArgumentException("max in flight " + maxInFlight + ": must be ≥ 1");
            long total = requestsBefore(rate, warmup.plus(duration));
            if (total > MAX_REQUESTS) {
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                        "%s requests/s for %d s (warm-up included) is %d requests; at most %d per rate", rate,
                        warmup.plus(duration).toSeconds(), total, MAX_REQUESTS));
            }
        }

        /** Requests due before the window opens: due time {@code i / rate < warmup}. */
        public long warmupRequests() {
            return requestsBefore(rate, warmup);
        }

        /** Every request of the plan: due time {@code i / rate < warmup + duration}. */
        public long total() {
            return requestsBefore(rate, warmup.plus(duration));
        }

        private static long requestsBefore(double rate, Duration t) {
            // the count of i ≥ 0 with i / rate < t, i.e. ⌈rate · t⌉ (integral products are not rounded up past themselves)
            double x = rate * t.toNanos() / 1e9;
            return (long) Math.ceil(Math.round(x * 1e6) / 1e6);
        }

        /** When request {@code i} is due, in nanoseconds after the start. */
        public long dueNanos(long i) {
            return Math.round(i * 1e9 / rate);
        }
    }

    /**
     * What happened to every request of a plan, by index: when it was sent (or {@link #DROPPED}), when its reply came,
     * its code (null: no reply within the drain timeout) and batch size. Times are nanoseconds after the start.
     */
    public static final class Recording {
        final Plan plan;
        final long[] sentAt;
        final long[] doneAt;
        final String[] code;
        final int[] batch;

        Recording(Plan plan) {
            this.plan = plan;
            int n = Math.toIntExact(plan.total());
            sentAt = new long[n];
            doneAt = new long[n];
            code = new String[n];
            batch = new int[n];
        }

        public Plan plan() {
            return plan;
        }
    }

    /** Runs the plan against {@code sender} on this thread and returns what happened. */
    public static Recording run(Plan plan, Sender sender) throws InterruptedException {
        Recording rec = new Recording(plan);
        AtomicInteger inFlight = new AtomicInteger();
        int n = rec.sentAt.length;
        long start = System.nanoTime() + 10_000_000L; // request 0 is due 10 ms from now, not already late
        for (int i = 0; i < n; i++) {
            long due = start + plan.dueNanos(i);
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) LockSupport.parkNanos(wait);
            if (Thread.interrupted()) throw new InterruptedException("load generation interrupted at request " + i + " of " + n);
            if (inFlight.get() >= plan.maxInFlight()) {
                rec.sentAt[i] = DROPPED;
                continue;
            }
            int k = i;
            inFlight.incrementAndGet();
            rec.sentAt[i] = System.nanoTime() - start;
            // The reply's fields are written before the counter goes down, and read after it reached 0: the counter
            // is what makes them visible to this thread.
            Consumer<Reply> done = reply -> {
                rec.doneAt[k] = System.nanoTime() - start;
                rec.batch[k] = reply.batchSize();
                rec.code[k] = reply.code();
                inFlight.decrementAndGet();
            };
            try {
                sender.send(i, done);
            } catch (RuntimeException e) {
                done.accept(new Reply("CLIENT_" + e.getClass().getSimpleName(), 0));
            }
        }
        long until = System.nanoTime() + plan.drainTimeout().toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < until) Thread.sleep(2);
        return rec;
    }
}
