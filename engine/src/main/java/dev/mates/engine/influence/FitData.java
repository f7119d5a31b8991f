package dev.mates.engine.influence;

import dev.mates.engine.util.Correlation;
import java.util.Random;

/**
 * What every influence model fits on: z-scored labels and the paper's 90/10 train/validation split drawn by
 * seed. One home for the split so that every backbone is validated on the same documents for the same seed.
 */
record FitData(double[] z, int[] train, int[] val) {

    static FitData of(int docs, double[] influence, long seed) {
        if (docs != influence.length) {
            throw new IllegalArgumentException("influence fit: " + docs + " documents but " + influence.length + " labels");
        }
        if (docs < 4) throw new IllegalArgumentException("influence fit: need at least 4 labelled documents, got " + docs);
        for (int i = 0; i < docs; i++) {
            if (!Double.isFinite(influence[i])) {
                throw new IllegalArgumentException("influence fit: label " + i + " is " + influence[i] + "; re-run that probe");
            }
        }
        int[] perm = permutation(docs, new Random(seed));
        int nVal = Math.max(1, (int) Math.round(docs * 0.1));
        int[] val = java.util.Arrays.copyOfRange(perm, 0, nVal);
        int[] train = java.util.Arrays.copyOfRange(perm, nVal, docs);
        return new FitData(Correlation.zscore(influence), train, val);
    }

    static int[] permutation(int n, Random rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        shuffle(p, rnd);
        return p;
    }

    static void shuffle(int[] p, Random rnd) {
        for (int i = p.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i]; p[i] = p[j]; p[j] = t;
        }
    }

    double[] labels(int[] idx) {
        double[] y = new double[idx.length];
        for (int i = 0; i < idx.length; i++) y[i] = z[idx[i]];
        return y;
    }

    /** Spearman where a constant prediction (NaN) ranks below every real correlation when picking the best epoch. */
    static double comparable(double spearman) {
        return Double.isNaN(spearman) ? -2 : spearman;
    }
}
