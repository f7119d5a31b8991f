package dev.mates.engine.influence;

import dev.mates.engine.data.Document;
import dev.mates.engine.util.Correlation;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Random;

/**
 * The CPU-cheap influence model ({@code ngram}): a linear regressor on hashed word uni/bigrams and character
 * 3-grams ({@link NgramFeatures}), trained on MSE against z-scored labels. Per-coordinate AdaGrad instead of
 * Adam because the updates are sparse: AdaGrad needs no bias correction for coordinates a document does not
 * touch, so each step costs O(features of one document) rather than O(2^18).
 */
public final class HashedNgramInfluenceModel implements InfluenceModel {
    public static final String BACKBONE = "ngram";
    private static final int MAGIC = 0x4d4e4731; // "MNG1"

    private final int epochs;
    private final double lr;
    private final double l2;
    private final long seed;
    private float[] weights = new float[NgramFeatures.DIM];
    private double bias;

    public HashedNgramInfluenceModel(long seed) {
        this(8, 0.05, 1e-4, seed);
    }

    /** @param epochs passes over the training split; @param lr AdaGrad step; @param l2 weight decay */
    public HashedNgramInfluenceModel(int epochs, double lr, double l2, long seed) {
        if (epochs < 1) throw new IllegalArgumentException("ngram influence model: epochs must be >= 1, got " + epochs);
        if (!(lr > 0)) throw new IllegalArgumentException("ngram influence model: lr must be > 0, got " + lr);
        if (!(l2 >= 0)) throw new IllegalArgumentException("ngram influence model: l2 must be >= 0, got " + l2);
        this.epochs = epochs;
        this.lr = lr;
        this.l2 = l2;
        this.seed = seed;
    }

    @Override
    public String backbone() {
        return BACKBONE;
    }

    @Override
    public FitReport fit(List<Document> docs, double[] influence, long splitSeed) {
        long t0 = System.nanoTime();
        FitData data = FitData.of(docs, influence, splitSeed);
        NgramFeatures fx = new NgramFeatures();
        NgramFeatures.Sparse[] x = new NgramFeatures.Sparse[docs.size()];
        for (int i = 0; i < x.length; i++) x[i] = fx.extract(docs.get(i).text());

        float[] w = new float[NgramFeatures.DIM];
        float[] g2 = new float[NgramFeatures.DIM];
        double b = 0, gb2 = 0;
        double[] yTune = data.labels(data.tune());
        double[] pTune = new double[yTune.length];
        float[] bestW = null;
        double bestB = 0, bestSpearman = Double.NEGATIVE_INFINITY;
        int bestEpoch = 0;
        int[] order = data.train().clone();
        Random rnd = new Random(seed ^ 0x5eed);
        final double eps = 1e-8;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            FitData.shuffle(order, rnd);
            for (int d : order) {
                NgramFeatures.Sparse s = x[d];
                double err = dot(w, b, s) - data.z()[d]; // d(½·err²)/d(pred)
                int[] idx = s.idx();
                float[] val = s.val();
                for (int t = 0; t < idx.length; t++) {
                    int j = idx[t];
                    double g = err * val[t] + l2 * w[j];
                    g2[j] += (float) (g * g);
                    w[j] -= (float) (lr * g / (Math.sqrt(g2[j]) + eps));
                }
                gb2 += err * err;
                b -= lr * err / (Math.sqrt(gb2) + eps);
            }
            for (int i = 0; i < pTune.length; i++) pTune[i] = dot(w, b, x[data.tune()[i]]);
            double sp = Correlation.spearman(pTune, yTune);
            if (bestW == null || FitData.comparable(sp) > FitData.comparable(bestSpearman)) {
                bestW = w.clone();
                bestB = b;
                bestSpearman = sp;
                bestEpoch = epoch;
            }
        }
        weights = bestW;
        bias = bestB;
        double[] yVal = data.labels(data.val());
        double[] pVal = new double[yVal.length];
        for (int i = 0; i < pVal.length; i++) pVal[i] = dot(weights, bias, x[data.val()[i]]);
        return new FitReport(BACKBONE, data.train().length, data.tune().length, data.val().length, epochs, bestEpoch,
                Correlation.spearman(pVal, yVal), Correlation.pearson(pVal, yVal), (System.nanoTime() - t0) / 1e9);
    }

    @Override
    public double[] predict(List<Document> docs) {
        NgramFeatures fx = new NgramFeatures();
        double[] out = new double[docs.size()];
        for (int i = 0; i < out.length; i++) out[i] = dot(weights, bias, fx.extract(docs.get(i).text()));
        return out;
    }

    private static double dot(float[] w, double b, NgramFeatures.Sparse s) {
        double acc = b;
        int[] idx = s.idx();
        float[] val = s.val();
        for (int t = 0; t < idx.length; t++) acc += (double) w[idx[t]] * val[t];
        return acc;
    }

    /** Format: magic, bias, number of non-zero weights, then (bucket, weight) pairs; the training config is not needed to predict. */
    @Override
    public byte[] save() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeInt(NgramFeatures.DIM);
            out.writeDouble(bias);
            int nnz = 0;
            for (float v : weights) if (v != 0) nnz++;
            out.writeInt(nnz);
            for (int j = 0; j < weights.length; j++) {
                if (weights[j] != 0) {
                    out.writeInt(j);
                    out.writeFloat(weights[j]);
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Restores a model written by {@link #save()}; it predicts exactly as the saved one did. */
    public static HashedNgramInfluenceModel load(byte[] state) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
            if (in.readInt() != MAGIC) throw new IllegalArgumentException("influence model state is not an ngram model (bad magic)");
            int dim = in.readInt();
            if (dim != NgramFeatures.DIM) {
                throw new IllegalArgumentException("ngram model state has " + dim + " buckets, this build uses " + NgramFeatures.DIM);
            }
            HashedNgramInfluenceModel m = new HashedNgramInfluenceModel(0);
            m.bias = in.readDouble();
            int nnz = in.readInt();
            for (int t = 0; t < nnz; t++) {
                int j = in.readInt();
                m.weights[j] = in.readFloat();
            }
            return m;
        } catch (IOException e) {
            throw new IllegalArgumentException("ngram model state is truncated or corrupt", e);
        }
    }

    /** About 6 hashed features per token (≈4 character 3-grams, a unigram, a bigram), ~4 operations each. */
    @Override
    public double flopsPerDoc(int tokens) {
        return 24.0 * tokens;
    }
}
