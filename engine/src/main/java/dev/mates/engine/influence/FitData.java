package dev.mates.engine.influence;

import dev.mates.engine.util.Correlation;
import dev.mates.engine.data.Document;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * What every influence model fits on: z-scored labels and a train/tune/validation split drawn by seed (80/10/10):
 * the best epoch is chosen on {@code tune}, and the correlations reported are measured on {@code val}, which played
 * no part in the choice (the paper's 90/10 split picks and reports on the same documents, which flatters the
 * figure). The split is by document: the pieces {@code <id>#k} of one long document land in the same part, so no
 * validation piece has a sibling in training. One home for the split so that every backbone is validated on the same
 * documents for the same seed.
 */
record FitData(double[] z, int[] train, int[] tune, int[] val) {

    static FitData of(List<Document> points, double[] influence, long seed) {
        int docs = points.size();
        if (docs != influence.length) {
            throw new IllegalArgumentException("influence fit: " + docs + " documents but " + influence.length + " labels");
        }
        if (docs < 4) throw new IllegalArgumentException("influence fit: need at least 4 labelled documents, got " + docs);
        for (int i = 0; i < docs; i++) {
            if (!Double.isFinite(influence[i])) {
                throw new IllegalArgumentException("influence fit: label " + i + " is " + influence[i] + "; re-run that probe");
            }
        }
        Map<String, List<Integer>> byDocument = new LinkedHashMap<>();
        for (int i = 0; i < docs; i++) {
            byDocument.computeIfAbsent(PIECE.matcher(points.get(i).id()).replaceFirst(""), k -> new ArrayList<>()).add(i);
        }
        List<List<Integer>> groups = new ArrayList<>(byDocument.values());
        int[] perm = permutation(groups.size(), new Random(seed));
        int want = Math.max(1, (int) Math.round(docs * 0.1));
        List<Integer> val = new ArrayList<>();
        List<Integer> tune = new ArrayList<>();
        List<Integer> train = new ArrayList<>();
        for (int g : perm) {
            List<Integer> to = val.size() < want ? val : tune.size() < want ? tune : train;
            to.addAll(groups.get(g));
        }
        if (train.isEmpty()) {
            throw new IllegalArgumentException("influence fit: the " + docs + " labelled data points come from only "
                    + groups.size() + " documents, too few to hold some out; probe more documents");
        }
        return new FitData(Correlation.zscore(influence), ints(train), ints(tune), ints(val));
    }

    /** The {@code #k} a split document's pieces carry ({@link dev.mates.engine.data.DocumentSplitter}). */
    private static final Pattern PIECE = Pattern.compile("#\\d+$");

    private static int[] ints(List<Integer> xs) {
        return xs.stream().mapToInt(Integer::intValue).toArray();
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
