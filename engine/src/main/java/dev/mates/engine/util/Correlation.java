package dev.mates.engine.util;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** Pearson and Spearman (average ranks for ties) correlation. NaN when either side is constant. */
public final class Correlation {
    private Correlation() {}

    public static double pearson(double[] a, double[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("length mismatch " + a.length + " vs " + b.length);
        int n = a.length;
        if (n < 2) return Double.NaN;
        double ma = 0, mb = 0;
        for (int i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
        ma /= n; mb /= n;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++) {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db; saa += da * da; sbb += db * db;
        }
        return (saa == 0 || sbb == 0) ? Double.NaN : sab / Math.sqrt(saa * sbb);
    }

    public static double spearman(double[] a, double[] b) {
        return pearson(ranks(a), ranks(b));
    }

    /**
     * The 95% interval of a Spearman correlation {@code rho} measured on {@code n} pairs: Fisher's z with the standard
     * error √(1.06/(n−3)) of Fieller, Hartley &amp; Pearson (1957) for rank correlations. {NaN, NaN} below 4 pairs.
     */
    public static double[] spearmanInterval(double rho, int n) {
        if (n < 4 || Double.isNaN(rho)) return new double[] {Double.NaN, Double.NaN};
        double r = Math.max(-0.999999, Math.min(0.999999, rho));
        double z = 0.5 * Math.log((1 + r) / (1 - r));
        double half = 1.959964 * Math.sqrt(1.06 / (n - 3));
        return new double[] {Math.tanh(z - half), Math.tanh(z + half)};
    }

    /** 1-based ranks; tied values share their average rank. */
    public static double[] ranks(double[] x) {
        Integer[] order = IntStream.range(0, x.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> x[i]));
        double[] r = new double[x.length];
        int i = 0;
        while (i < order.length) {
            int j = i;
            while (j + 1 < order.length && x[order[j + 1]] == x[order[i]]) j++;
            double avg = (i + j) / 2.0 + 1;
            for (int t = i; t <= j; t++) r[order[t]] = avg;
            i = j + 1;
        }
        return r;
    }

    /** z-scores (population std); a constant vector maps to zeros. */
    public static double[] zscore(double[] x) {
        double m = Arrays.stream(x).average().orElse(0);
        double v = 0;
        for (double d : x) v += (d - m) * (d - m);
        double sd = x.length > 0 ? Math.sqrt(v / x.length) : 0;
        double[] z = new double[x.length];
        for (int i = 0; i < x.length; i++) z[i] = sd > 0 ? (x[i] - m) / sd : 0;
        return z;
    }
}
