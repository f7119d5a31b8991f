package dev.mates.loadtest;

import java.util.Arrays;

/** Exact percentiles of recorded values (every value is kept and sorted: no histogram buckets, no interpolation). */
public final class Percentiles {
    private Percentiles() {}

    /**
     * Count, p50, p95, p99, max and mean of some values, in the values' unit times {@code scale}; all 0 with count 0.
     */
    public record Summary(long count, double p50, double p95, double p99, double max, double mean) {
        public static final Summary EMPTY = new Summary(0, 0, 0, 0, 0, 0);
    }

    /**
     * The nearest-rank percentile: the smallest value such that at least {@code p}% of the values are ≤ it, i.e. the
     * value of rank ⌈p/100 · n⌉ (1-based) in sorted order. Always one of the values.
     *
     * @param sorted ascending, not empty
     * @param p      in (0, 100]
     */
    public static long nearestRank(long[] sorted, double p) {
        if (sorted.length == 0) throw new IllegalArgumentException("no values");
        if (!(p > 0 && p <= 100)) throw new IllegalArgumentException("percentile " + p + " is not in (0, 100]");
        // The product is rounded to nine decimals first, so 95% of 20 is exactly rank 19, not 19.000000000000004 → 20.
        double exact = Math.round(p / 100.0 * sorted.length * 1e9) / 1e9;
        int rank = (int) Math.ceil(exact);
        return sorted[Math.max(1, rank) - 1];
    }

    /** The summary of {@code values} (not modified) times {@code scale}, e.g. 1e-6 for nanoseconds in milliseconds. */
    public static Summary summary(long[] values, double scale) {
        if (values.length == 0) return Summary.EMPTY;
        long[] s = values.clone();
        Arrays.sort(s);
        double sum = 0;
        for (long v : s) sum += v;
        return new Summary(s.length, nearestRank(s, 50) * scale, nearestRank(s, 95) * scale, nearestRank(s, 99) * scale,
                s[s.length - 1] * scale, sum / s.length * scale);
    }
}
