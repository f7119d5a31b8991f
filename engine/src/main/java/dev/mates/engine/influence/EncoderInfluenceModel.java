package dev.mates.engine.influence;

import dev.mates.engine.data.Document;
import dev.mates.engine.util.Correlation;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Influence model on a frozen MiniLM-L6 sentence encoder ({@code minilm-int8} / {@code minilm-fp32}) with a small
 * trainable {@link MlpHead}. The paper fine-tunes BERT-base end to end on GPU; we freeze the encoder so that a fit
 * and a scoring pass run on CPU, and so that embeddings can be cached by document id: a fit re-encodes nothing
 * it has seen, and predict() reuses the embeddings of the probe documents.
 */
public final class EncoderInfluenceModel implements InfluenceModel, AutoCloseable {
    private static final int MAGIC = 0x4d4c4d31; // "MLM1"

    private final boolean int8;
    private final int maxTokens;
    private final int hidden;
    private final int epochs;
    private final double lr;
    private final double l2;
    private final int batch;
    private final long seed;
    private final Map<String, float[]> cache;
    private MiniLmEncoder encoder;
    private MlpHead head;

    public EncoderInfluenceModel(boolean int8, long seed) {
        this(int8, 128, 64, 20, 1e-3, 1e-4, 32, 50_000, seed);
    }

    /**
     * @param maxTokens encoder truncation; @param hidden head width; @param epochs, lr, l2, batch Adam training of
     * the head; @param cacheSize most embeddings kept (each 1.5 KB)
     */
    public EncoderInfluenceModel(boolean int8, int maxTokens, int hidden, int epochs, double lr, double l2, int batch,
                                 int cacheSize, long seed) {
        if (epochs < 1) throw new IllegalArgumentException("encoder influence model: epochs must be >= 1, got " + epochs);
        if (!(lr > 0)) throw new IllegalArgumentException("encoder influence model: lr must be > 0, got " + lr);
        if (hidden < 1) throw new IllegalArgumentException("encoder influence model: hidden must be >= 1, got " + hidden);
        this.int8 = int8;
        this.maxTokens = maxTokens;
        this.hidden = hidden;
        this.epochs = epochs;
        this.lr = lr;
        this.l2 = l2;
        this.batch = batch;
        this.seed = seed;
        this.cache = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, float[]> eldest) {
                return size() > cacheSize;
            }
        };
        this.head = new MlpHead(MiniLmEncoder.DIM, hidden, seed);
    }

    @Override
    public String backbone() {
        return int8 ? "minilm-int8" : "minilm-fp32";
    }

    private float[][] embeddings(List<Document> docs) {
        float[][] out = new float[docs.size()][];
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < out.length; i++) {
            out[i] = cache.get(docs.get(i).id());
            if (out[i] == null) missing.add(i);
        }
        if (missing.isEmpty()) return out;
        if (encoder == null) encoder = MiniLmEncoder.load(int8, maxTokens);
        float[][] e = encoder.embed(missing.stream().map(i -> docs.get(i).text()).toList());
        for (int m = 0; m < e.length; m++) {
            int i = missing.get(m);
            out[i] = e[m];
            cache.put(docs.get(i).id(), e[m]);
        }
        return out;
    }

    @Override
    public FitReport fit(List<Document> docs, double[] influence, long splitSeed) {
        long t0 = System.nanoTime();
        FitData data = FitData.of(docs, influence, splitSeed);
        float[][] x = embeddings(docs);
        MlpHead h = new MlpHead(MiniLmEncoder.DIM, hidden, seed);
        float[] p = h.get(), g = new float[p.length], m = new float[p.length], v = new float[p.length];
        float[] act = new float[hidden];
        double[] yTune = data.labels(data.tune());
        double[] pTune = new double[yTune.length];
        float[] best = null;
        double bestSpearman = Double.NaN;
        int bestEpoch = 0;
        int[] order = data.train().clone();
        Random rnd = new Random(seed ^ 0x5eed);
        final double b1 = 0.9, b2 = 0.999, eps = 1e-8;
        long step = 0;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            FitData.shuffle(order, rnd);
            for (int from = 0; from < order.length; from += batch) {
                int to = Math.min(order.length, from + batch);
                java.util.Arrays.fill(g, 0);
                for (int t = from; t < to; t++) h.accumulate(x[order[t]], data.z()[order[t]], act, g);
                step++;
                double c1 = 1 - Math.pow(b1, step), c2 = 1 - Math.pow(b2, step);
                float inv = 1f / (to - from);
                for (int i = 0; i < p.length; i++) {
                    double gi = g[i] * inv + l2 * p[i];
                    m[i] = (float) (b1 * m[i] + (1 - b1) * gi);
                    v[i] = (float) (b2 * v[i] + (1 - b2) * gi * gi);
                    p[i] -= (float) (lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps));
                }
                h.set(p);
            }
            for (int i = 0; i < pTune.length; i++) pTune[i] = h.forward(x[data.tune()[i]], act);
            double sp = Correlation.spearman(pTune, yTune);
            if (best == null || FitData.comparable(sp) > FitData.comparable(bestSpearman)) {
                best = p.clone();
                bestSpearman = sp;
                bestEpoch = epoch;
            }
        }
        h.set(best);
        head = h;
        double[] yVal = data.labels(data.val());
        double[] pVal = new double[yVal.length];
        for (int i = 0; i < pVal.length; i++) pVal[i] = h.forward(x[data.val()[i]], act);
        return new FitReport(backbone(), data.train().length, data.tune().length, data.val().length, epochs, bestEpoch,
                Correlation.spearman(pVal, yVal), Correlation.pearson(pVal, yVal), (System.nanoTime() - t0) / 1e9);
    }

    @Override
    public double[] predict(List<Document> docs) {
        float[][] x = embeddings(docs);
        float[] act = new float[hidden];
        double[] out = new double[x.length];
        for (int i = 0; i < out.length; i++) out[i] = head.forward(x[i], act);
        return out;
    }

    /** Format: magic, backbone name, max tokens, then the head; the frozen encoder ships with the code. */
    @Override
    public byte[] save() {
        byte[] name = backbone().getBytes(StandardCharsets.UTF_8);
        byte[] h = head.toBytes();
        return ByteBuffer.allocate(12 + name.length + h.length).putInt(MAGIC).putInt(name.length).put(name)
                .putInt(maxTokens).put(h).array();
    }

    /** Restores a model written by {@link #save()}; the encoder is loaded on first use. */
    public static EncoderInfluenceModel load(byte[] state) {
        ByteBuffer buf = ByteBuffer.wrap(state);
        if (state.length < 12 || buf.getInt() != MAGIC) {
            throw new IllegalArgumentException("influence model state is not a MiniLM model (bad magic)");
        }
        byte[] name = new byte[buf.getInt()];
        buf.get(name);
        boolean int8 = new String(name, StandardCharsets.UTF_8).equals("minilm-int8");
        int maxTokens = buf.getInt();
        MlpHead head = MlpHead.fromBytes(buf);
        EncoderInfluenceModel m = new EncoderInfluenceModel(int8, maxTokens, head.hidden, 20, 1e-3, 1e-4, 32, 50_000, 0);
        m.head = head;
        return m;
    }

    /** Encoder forward ≈ 2 FLOPs per parameter per token; the head is negligible. */
    @Override
    public double flopsPerDoc(int tokens) {
        return 2 * MiniLmEncoder.PARAMS * Math.min(tokens, maxTokens) + 2.0 * head.size();
    }

    @Override
    public void close() {
        if (encoder != null) encoder.close();
        encoder = null;
    }
}
