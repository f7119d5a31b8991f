package dev.mates.loadtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * loadtest.json: what was measured and how. Online mode: one {@link Series} per scorer configuration (e.g. max batch
 * 1 and the default), each with one {@link RateResult} per offered rate. Queue mode: one {@link QueueResult} per
 * worker count.
 *
 * @param mode     online or queue
 * @param target   the scorer's gRPC address (online), or "local"
 * @param settings the command's settings, as given (rates, durations, documents, deadline…)
 * @param sloP99Ms the p99 bound of {@link Series#capacityAtSlo}
 */
public record LoadReport(String mode, String target, Map<String, Object> settings, double sloP99Ms, List<Series> series,
                         List<QueueResult> queue) {
    public LoadReport {
        settings = Map.copyOf(settings);
        series = List.copyOf(series);
        queue = List.copyOf(queue);
    }

    /**
     * @param label            what sets this series apart ("default", "mates.scorer.max-batch=1")
     * @param scorerProperties the scorer's extra settings of this series (empty: as deployed)
     */
    public record Series(String label, Map<String, String> scorerProperties, List<RateResult> rates) {
        public Series {
            scorerProperties = Map.copyOf(scorerProperties);
            rates = List.copyOf(rates);
        }

        /**
         * The highest achieved throughput among the rates whose p99 stayed within {@code sloP99Ms} with at most 0.1% of
         * their requests failed or dropped: what this configuration serves at that latency. Empty when no rate did.
         */
        public OptionalDouble capacityAtSlo(double sloP99Ms) {
            return rates.stream().filter(r -> r.ok() > 0 && r.latencyMs().p99() <= sloP99Ms
                            && r.errorCount() + r.dropped() <= 0.001 * r.due())
                    .mapToDouble(RateResult::achievedRps).max();
        }
    }

    /**
     * @param workers       scorer processes (one queue worker each) consuming the stream
     * @param documents     documents scored per measurement
     * @param drainSeconds  from the first shard enqueued to the last one done (median of the repeats)
     * @param docsPerSecond documents ÷ drain time
     * @param speedup       docs/s ÷ the first worker count's
     */
    public record QueueResult(int workers, int documents, double drainSeconds, double docsPerSecond, double speedup) {}

    private static final ObjectMapper JSON = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** The report as JSON: the records' fields in snake_case, plus each series' {@code capacity_at_slo_rps}. */
    public ObjectNode toJson() {
        ObjectNode root = JSON.valueToTree(this);
        for (int i = 0; i < series.size(); i++) {
            OptionalDouble c = series.get(i).capacityAtSlo(sloP99Ms);
            ObjectNode s = (ObjectNode) root.get("series").get(i);
            if (c.isPresent()) s.put("capacity_at_slo_rps", c.getAsDouble());
            else s.putNull("capacity_at_slo_rps");
        }
        return root;
    }

    /** The table printed at the end of a load test. */
    public String table() {
        StringBuilder b = new StringBuilder();
        for (Series s : series) {
            b.append(String.format(Locale.ROOT, "%s (%s):%n", target, s.label));
            b.append(String.format(Locale.ROOT, "%10s %10s %8s %9s %9s %9s %9s %7s %7s %7s %7s%n", "offered/s", "achieved/s", "ok",
                    "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "dropped", "batch", "bmax"));
            for (RateResult r : s.rates) {
                b.append(String.format(Locale.ROOT, "%10s %10.1f %8d %9.1f %9.1f %9.1f %9.1f %7d %7d %7.1f %7.0f%n",
                        RateSweep.rate(r.offeredRps()), r.achievedRps(), r.ok(), r.latencyMs().p50(), r.latencyMs().p95(),
                        r.latencyMs().p99(), r.latencyMs().max(), r.errorCount(), r.dropped(), r.batchSize().mean(), r.batchSize().max()));
            }
            OptionalDouble c = s.capacityAtSlo(sloP99Ms);
            b.append(String.format(Locale.ROOT, "  throughput with p99 ≤ %.0f ms: %s%n", sloP99Ms,
                    c.isPresent() ? String.format(Locale.ROOT, "%.1f requests/s", c.getAsDouble()) : "none of these rates"));
        }
        if (series.size() > 1) {
            OptionalDouble base = series.get(0).capacityAtSlo(sloP99Ms);
            for (Series s : series.subList(1, series.size())) {
                OptionalDouble c = s.capacityAtSlo(sloP99Ms);
                if (base.isPresent() && c.isPresent() && base.getAsDouble() > 0) {
                    b.append(String.format(Locale.ROOT, "%s vs %s at p99 ≤ %.0f ms: %.2fx%n", s.label, series.get(0).label,
                            sloP99Ms, c.getAsDouble() / base.getAsDouble()));
                }
            }
        }
        if (!queue.isEmpty()) {
            b.append(String.format(Locale.ROOT, "%8s %10s %10s %10s %8s%n", "workers", "documents", "drain s", "docs/s", "ratio"));
            for (QueueResult q : queue) {
                b.append(String.format(Locale.ROOT, "%8d %10d %10.2f %10.0f %7.2fx%n", q.workers, q.documents, q.drainSeconds,
                        q.docsPerSecond, q.speedup));
            }
        }
        return b.toString();
    }
}
