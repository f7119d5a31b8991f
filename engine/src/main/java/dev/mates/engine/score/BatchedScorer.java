package dev.mates.engine.score;

import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Scores a pool with a fitted influence model in batches of similar length (sorted by text length), so an encoder
 * pads each batch little; scores are written back in the pool's order.
 */
public final class BatchedScorer implements Scorer {
    private final InfluenceModel model;
    private final int batchSize;
    private final Listener listener;
    private volatile double seconds;

    public BatchedScorer(InfluenceModel model, int batchSize) {
        this(model, batchSize, Listener.QUIET);
    }

    /** As above, reporting scored documents to {@code listener}. */
    public BatchedScorer(InfluenceModel model, int batchSize, Listener listener) {
        this.listener = listener;
        if (batchSize < 1) throw new IllegalArgumentException("BatchedScorer: batchSize must be >= 1, got " + batchSize);
        this.model = model;
        this.batchSize = batchSize;
    }

    @Override
    public double[] score(List<Document> pool) {
        long t0 = System.nanoTime();
        double[] out = new double[pool.size()];
        Integer[] order = new Integer[pool.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, Comparator.comparingInt(i -> pool.get(i).text().length()));
        Progress bar = new Progress(listener, "scoring", pool.size(), "docs");
        for (int from = 0; from < order.length; from += batchSize) {
            int to = Math.min(order.length, from + batchSize);
            List<Document> batch = new ArrayList<>(to - from);
            for (int t = from; t < to; t++) batch.add(pool.get(order[t]));
            double[] s = model.predict(batch);
            if (s.length != batch.size()) {
                throw new IllegalStateException("influence model " + model.backbone() + " returned " + s.length
                        + " scores for a batch of " + batch.size());
            }
            for (int t = from; t < to; t++) out[order[t]] = s[t - from];
            bar.step(to - from);
        }
        seconds = (System.nanoTime() - t0) / 1e9;
        bar.done(String.format(Locale.ROOT, "scored %d docs with %s", pool.size(), model.backbone()));
        return out;
    }

    /** Wall time of the last {@link #score} call. */
    public double seconds() {
        return seconds;
    }
}
