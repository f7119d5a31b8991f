package dev.mates.loadtest;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The figures of one offered rate, over the requests due in the measured window (after the warm-up).
 *
 * @param offeredRps    the rate requests were due at
 * @param durationS     the measured window
 * @param due           requests due in the window
 * @param sent          of those, sent ({@code due - dropped})
 * @param ok            of those, answered OK
 * @param dropped       of those, not sent because {@code max-in-flight} requests were outstanding (client backlog)
 * @param errors        of those sent, the ones not OK, by status code ({@code UNFINISHED}: no reply within the drain time)
 * @param achievedRps   OK replies that arrived inside the window (whenever they were due) per second: the throughput the
 *                      server sustained
 * @param latencyMs     due time → reply, of the OK replies, in milliseconds
 * @param batchSize     the server's model batch each OK request was scored in ({@code ScoreResponse.batch_size})
 * @param maxSendLagMs  how late the generator sent its latest request: more than a few ms means the client, not the
 *                      server, was the limit at this rate
 * @param serverBatches the scorer's own batch-size metric, read before and after the rate (warm-up included), when its
 *                      metrics could be read, else null
 */
public record RateResult(double offeredRps, double durationS, long due, long sent, long ok, long dropped,
                         Map<String, Long> errors, double achievedRps, Percentiles.Summary latencyMs,
                         Percentiles.Summary batchSize, double maxSendLagMs, ScorerMetrics.Delta serverBatches) {
    public static final String UNFINISHED = "UNFINISHED";

    public RateResult {
        errors = Collections.unmodifiableMap(new TreeMap<>(errors)); // by code, in a stable order
    }

    /** Errors of all codes together. */
    public long errorCount() {
        return errors.values().stream().mapToLong(Long::longValue).sum();
    }

    public RateResult withServerBatches(ScorerMetrics.Delta d) {
        return new RateResult(offeredRps, durationS, due, sent, ok, dropped, errors, achievedRps, latencyMs, batchSize,
                maxSendLagMs, d);
    }

    /** The figures of a recording (a pure function of it). */
    public static RateResult of(OpenLoop.Recording r) {
        OpenLoop.Plan plan = r.plan;
        int first = Math.toIntExact(plan.warmupRequests());
        int n = r.sentAt.length;
        long windowStart = plan.warmup().toNanos();
        long windowEnd = plan.warmup().plus(plan.duration()).toNanos();
        long dropped = 0;
        long okCount = 0;
        long maxLag = 0;
        Map<String, Long> errors = new TreeMap<>();
        long[] latencies = new long[n - first];
        long[] batches = new long[n - first];
        for (int i = first; i < n; i++) {
            if (r.sentAt[i] == OpenLoop.DROPPED) {
                dropped++;
                continue;
            }
            long due = plan.dueNanos(i);
            maxLag = Math.max(maxLag, r.sentAt[i] - due);
            String code = r.code[i] == null ? UNFINISHED : r.code[i];
            if (code.equals(OpenLoop.Reply.OK)) {
                latencies[(int) okCount] = r.doneAt[i] - due;
                batches[(int) okCount] = r.batch[i];
                okCount++;
            } else {
                errors.merge(code, 1L, Long::sum);
            }
        }
        long okInWindow = 0;
        for (int i = 0; i < n; i++) {
            if (OpenLoop.Reply.OK.equals(r.code[i]) && r.doneAt[i] >= windowStart && r.doneAt[i] < windowEnd) okInWindow++;
        }
        double seconds = plan.duration().toNanos() / 1e9;
        return new RateResult(plan.rate(), seconds, n - first, n - first - dropped, okCount, dropped, errors,
                okInWindow / seconds, Percentiles.summary(java.util.Arrays.copyOf(latencies, (int) okCount), 1e-6),
                Percentiles.summary(java.util.Arrays.copyOf(batches, (int) okCount), 1), maxLag / 1e6, null);
    }
}
