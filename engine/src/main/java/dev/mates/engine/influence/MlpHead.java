package dev.mates.engine.influence;

import java.nio.ByteBuffer;
import java.util.Random;

/**
 * The trainable head on frozen embeddings: 384 → hidden (tanh) → 1, trained with Adam on ½·MSE. A hidden layer
 * rather than the paper's linear head because the paper fine-tunes the whole encoder; with the encoder frozen the
 * head is the only place left to bend the features toward influence, and at 25k parameters it costs nothing
 * next to the encoder.
 */
final class MlpHead {
    final int in;
    final int hidden;
    final float[] w1; // [hidden][in]
    final float[] b1;
    final float[] w2;
    float b2;

    MlpHead(int in, int hidden, long seed) {
        this.in = in;
        this.hidden = hidden;
        w1 = new float[hidden * in];
        b1 = new float[hidden];
        w2 = new float[hidden];
        Random rnd = new Random(seed);
        double s1 = Math.sqrt(1.0 / in), s2 = Math.sqrt(1.0 / hidden); // LeCun init for tanh
        for (int i = 0; i < w1.length; i++) w1[i] = (float) (rnd.nextGaussian() * s1);
        for (int i = 0; i < hidden; i++) w2[i] = (float) (rnd.nextGaussian() * s2);
    }

    double forward(float[] x, float[] h) {
        double out = b2;
        for (int j = 0; j < hidden; j++) {
            double a = b1[j];
            int base = j * in;
            for (int i = 0; i < in; i++) a += w1[base + i] * x[i];
            h[j] = (float) Math.tanh(a);
            out += w2[j] * h[j];
        }
        return out;
    }

    double predict(float[] x) {
        return forward(x, new float[hidden]);
    }

    /** Parameters flattened in a fixed order (w1, b1, w2, b2): the optimizer and serialisation see one vector. */
    int size() {
        return w1.length + b1.length + w2.length + 1;
    }

    float[] get() {
        float[] p = new float[size()];
        System.arraycopy(w1, 0, p, 0, w1.length);
        System.arraycopy(b1, 0, p, w1.length, b1.length);
        System.arraycopy(w2, 0, p, w1.length + b1.length, w2.length);
        p[p.length - 1] = b2;
        return p;
    }

    void set(float[] p) {
        System.arraycopy(p, 0, w1, 0, w1.length);
        System.arraycopy(p, w1.length, b1, 0, b1.length);
        System.arraycopy(p, w1.length + b1.length, w2, 0, w2.length);
        b2 = p[p.length - 1];
    }

    /** Adds the gradient of ½(pred − y)² for one example into {@code g} (same layout as {@link #get()}). */
    void accumulate(float[] x, double y, float[] h, float[] g) {
        double err = forward(x, h) - y;
        int ob1 = w1.length, ow2 = ob1 + hidden;
        for (int j = 0; j < hidden; j++) {
            g[ow2 + j] += (float) (err * h[j]);
            double da = err * w2[j] * (1 - h[j] * h[j]);
            g[ob1 + j] += (float) da;
            int base = j * in;
            for (int i = 0; i < in; i++) g[base + i] += (float) (da * x[i]);
        }
        g[g.length - 1] += (float) err;
    }

    byte[] toBytes() {
        float[] p = get();
        ByteBuffer buf = ByteBuffer.allocate(8 + 4 * p.length);
        buf.putInt(in).putInt(hidden);
        for (float v : p) buf.putFloat(v);
        return buf.array();
    }

    static MlpHead fromBytes(ByteBuffer buf) {
        MlpHead h = new MlpHead(buf.getInt(), buf.getInt(), 0);
        float[] p = new float[h.size()];
        for (int i = 0; i < p.length; i++) p[i] = buf.getFloat();
        h.set(p);
        return h;
    }
}
