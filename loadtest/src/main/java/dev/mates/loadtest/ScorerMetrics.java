package dev.mates.loadtest;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The scorer's online batch-size summary ({@code mates_scorer_online_batch_size_count|sum|max} on its management port,
 * {@code /q/metrics}), read before and after a rate: how many model batches the server formed and how many documents
 * they held. Optional: a scorer whose metrics cannot be read (another port, a firewall) just has no such figures.
 */
public final class ScorerMetrics {
    static final String METRIC = "mates_scorer_online_batch_size";

    private ScorerMetrics() {}

    /** The summary's totals at one moment; {@code max} is Micrometer's maximum over its recent window (about 2 min). */
    public record Reading(double count, double sum, double max) {}

    /**
     * What the server formed between two readings.
     *
     * @param batches   model batches of the online Score RPC
     * @param documents documents in them
     * @param mean      documents per batch
     * @param recentMax the largest batch of the scorer's recent window (its own max, not only this rate's)
     */
    public record Delta(long batches, long documents, double mean, double recentMax) {
        public static Delta between(Reading before, Reading after) {
            long b = Math.round(after.count - before.count);
            long d = Math.round(after.sum - before.sum);
            return new Delta(b, d, b > 0 ? (double) d / b : 0, after.max);
        }
    }

    /** Reads the metric from {@code http://HOST:PORT/q/metrics} ({@code target} checked by {@link Loopback}). */
    public static Optional<Reading> read(Loopback.Target target) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://" + target.grpcTarget() + "/q/metrics").toURL().openConnection();
            c.setConnectTimeout(1000);
            c.setReadTimeout(3000);
            try {
                if (c.getResponseCode() != 200) return Optional.empty();
                try (InputStream in = c.getInputStream()) {
                    // a metrics page is small; 8 MiB bounds a port that is not what we think
                    return parse(new String(in.readNBytes(8 << 20), StandardCharsets.UTF_8));
                }
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The summary's count, sum and max in a Prometheus text page (summed over label sets), or empty when absent. */
    static Optional<Reading> parse(String page) {
        double count = 0;
        double sum = 0;
        double max = 0;
        boolean seen = false;
        for (String line : page.split("\n")) {
            if (!line.startsWith(METRIC + "_")) continue;
            int sp = line.lastIndexOf(' ');
            if (sp < 0) continue;
            String name = line.substring(0, sp).replaceFirst("\\{.*}$", "").strip();
            double v;
            try {
                v = Double.parseDouble(line.substring(sp + 1).strip());
            } catch (NumberFormatException e) {
                continue;
            }
            switch (name.substring(METRIC.length() + 1)) {
                case "count" -> { count += v; seen = true; }
                case "sum" -> sum += v;
                case "max" -> max = Math.max(max, v);
                default -> { }
            }
        }
        return seen ? Optional.of(new Reading(count, sum, max)) : Optional.empty();
    }
}
