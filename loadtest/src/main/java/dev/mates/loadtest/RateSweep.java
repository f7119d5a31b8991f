package dev.mates.loadtest;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The online measurement: the offered rates one after the other, each an open loop of its own (warm-up, then the
 * measured window), with the scorer's batch-size metric read around each when its management port answers.
 */
public final class RateSweep {
    /** Rates one sweep may hold at the most. */
    public static final int MAX_RATES = 64;

    private RateSweep() {}

    /**
     * @param rates        offered requests per second, in the order they run
     * @param warmup       per rate, sent and not counted
     * @param duration     per rate, the measured window
     * @param maxInFlight  outstanding requests at the most; due ones beyond are dropped (client backlog)
     * @param drainTimeout after each rate's last request, how long its outstanding replies may take
     */
    public record Settings(List<Double> rates, Duration warmup, Duration duration, int maxInFlight, Duration drainTimeout) {
        public Settings {
            rates = List.copyOf(rates);
            if (rates.isEmpty() || rates.size() > MAX_RATES) throw new IllegalArgumentException("rates: 1 to " + MAX_RATES + ", got " + rates.size());
            for (double r : rates) plan(r, warmup, duration, maxInFlight, drainTimeout); // every plan valid before the first runs
        }

        OpenLoop.Plan plan(double rate) {
            return plan(rate, warmup, duration, maxInFlight, drainTimeout);
        }

        private static OpenLoop.Plan plan(double rate, Duration warmup, Duration duration, int maxInFlight, Duration drainTimeout) {
            return new OpenLoop.Plan(rate, warmup, duration, maxInFlight, drainTimeout);
        }
    }

    /**
     * Runs every rate against {@code client}, printing a line as each starts and ends on {@code log}.
     *
     * @param metrics the scorer's management port, or empty to skip its metric
     */
    public static List<RateResult> run(ScoreClient client, Settings s, Optional<Loopback.Target> metrics, PrintStream log)
            throws InterruptedException {
        List<RateResult> out = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int k = 0; k < s.rates().size(); k++) {
            OpenLoop.Plan plan = s.plan(s.rates().get(k));
            log.printf(Locale.ROOT, "rate %d/%d: %s requests/s, %d requests over %s warm-up + %s …%n", k + 1, s.rates().size(),
                    rate(plan.rate()), plan.total(), seconds(s.warmup()), seconds(s.duration()));
            Optional<ScorerMetrics.Reading> before = metrics.flatMap(ScorerMetrics::read);
            RateResult r = RateResult.of(OpenLoop.run(plan, client.sender((long) k << 32)));
            Optional<ScorerMetrics.Reading> after = metrics.flatMap(ScorerMetrics::read);
            if (before.isPresent() && after.isPresent()) r = r.withServerBatches(ScorerMetrics.Delta.between(before.get(), after.get()));
            out.add(r);
            log.println("  " + line(r));
        }
        log.printf(Locale.ROOT, "%d rates in %.0f s%n", out.size(), (System.nanoTime() - t0) / 1e9);
        return out;
    }

    /** One rate on one line: throughput, latency percentiles, errors, drops, batch sizes. */
    public static String line(RateResult r) {
        return String.format(Locale.ROOT, "offered %s/s: achieved %s/s | ok %d of %d due | p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, "
                        + "max %.1f ms | errors %d%s | dropped %d | batch mean %.1f, max %.0f%s",
                rate(r.offeredRps()), rate(r.achievedRps()), r.ok(), r.due(), r.latencyMs().p50(), r.latencyMs().p95(),
                r.latencyMs().p99(), r.latencyMs().max(), r.errorCount(), r.errors().isEmpty() ? "" : " " + r.errors(), r.dropped(),
                r.batchSize().mean(), r.batchSize().max(), r.maxSendLagMs() > 50 ? String.format(Locale.ROOT,
                        " | generator late by up to %.0f ms: the client was the limit", r.maxSendLagMs()) : "");
    }

    static String rate(double r) {
        return r == Math.rint(r) && r < 1e9 ? Long.toString((long) r) : String.format(Locale.ROOT, "%.1f", r);
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.0f s", d.toMillis() / 1000.0).replace(".0 s", " s");
    }
}
