package dev.mates.engine.select;

import java.util.Arrays;

/**
 * The streaming accumulator shared by every selector: keeps the k candidates with the largest key
 * {@code key = −scoreWeight·score + (noise ? G(seed, stage, docKey) : 0)} in a bounded min-heap on primitive
 * arrays, so memory is O(k) however many candidates are offered and an offer allocates nothing.
 *
 * <p>Candidates are totally ordered by (key, docKey, −index): equal keys cannot make the result depend on
 * the order of offers or on how the pool was sharded, which is what makes the global top-k equal the top-k of
 * the union of shard top-k lists.
 */
public final class TopKSelection implements Selection {
    private static final int INITIAL_CAPACITY = 1024;

    private final int k;
    private final long seed;
    private final int stage;
    private final double scoreWeight;
    private final boolean noise;

    // heap[0] is the smallest retained candidate: the one a better offer evicts.
    private double[] keys;
    private long[] docKeys;
    private int[] indices;
    private int size;

    TopKSelection(int k, long seed, int stage, double scoreWeight, boolean noise) {
        if (k < 0) throw new IllegalArgumentException("selection k must be >= 0, got " + k);
        this.k = k;
        this.seed = seed;
        this.stage = stage;
        this.scoreWeight = scoreWeight;
        this.noise = noise;
        // Grown on demand up to k: a huge k with a small pool does not pre-allocate.
        int cap = Math.min(k, INITIAL_CAPACITY);
        keys = new double[cap];
        docKeys = new long[cap];
        indices = new int[cap];
    }

    @Override
    public void offer(long docKey, int index, double score) {
        if (k == 0) return;
        double key;
        if (scoreWeight == 0) {
            key = 0; // random selection: scores (even NaN ones) play no part
        } else {
            if (Double.isNaN(score)) {
                throw new IllegalArgumentException("selection: score of candidate " + index + " is NaN; rescore it");
            }
            key = -scoreWeight * score;
        }
        if (noise) key += CounterRng.gumbel(seed, stage, docKey);
        offerKey(key, docKey, index);
    }

    private void offerKey(double key, long docKey, int index) {
        if (size == k) {
            // Early rejection: in a full heap most offers lose to the minimum, at the cost of one comparison.
            if (!greater(key, docKey, index, keys[0], docKeys[0], indices[0])) return;
            keys[0] = key;
            docKeys[0] = docKey;
            indices[0] = index;
            siftDown(0);
            return;
        }
        if (size == keys.length) grow();
        int i = size++;
        keys[i] = key;
        docKeys[i] = docKey;
        indices[i] = index;
        siftUp(i);
    }

    @Override
    public void merge(Selection other) {
        if (!(other instanceof TopKSelection o)) {
            throw new IllegalArgumentException("selection: cannot merge a " + other.getClass().getName());
        }
        if (o.k != k || o.seed != seed || o.stage != stage || o.scoreWeight != scoreWeight || o.noise != noise) {
            throw new IllegalArgumentException("selection: merging accumulators of different selections (k, seed, "
                    + "stage, selector must match): " + describe() + " vs " + o.describe());
        }
        for (int i = 0; i < o.size; i++) offerKey(o.keys[i], o.docKeys[i], o.indices[i]);
    }

    @Override
    public int[] result() {
        // Pop a copy of the heap: smallest first, so fill from the back for decreasing key order.
        TopKSelection copy = new TopKSelection(k, seed, stage, scoreWeight, noise);
        copy.keys = Arrays.copyOf(keys, size);
        copy.docKeys = Arrays.copyOf(docKeys, size);
        copy.indices = Arrays.copyOf(indices, size);
        copy.size = size;
        int[] out = new int[size];
        for (int r = size - 1; r >= 0; r--) {
            out[r] = copy.indices[0];
            int last = --copy.size;
            copy.keys[0] = copy.keys[last];
            copy.docKeys[0] = copy.docKeys[last];
            copy.indices[0] = copy.indices[last];
            if (copy.size > 0) copy.siftDown(0);
        }
        return out;
    }

    /** Number of retained candidates (≤ k). */
    public int size() {
        return size;
    }

    /** Allocated heap slots; never exceeds k. */
    public int capacity() {
        return keys.length;
    }

    private String describe() {
        return "k=" + k + " seed=" + seed + " stage=" + stage + " weight=" + scoreWeight + " noise=" + noise;
    }

    private static boolean greater(double ka, long da, int ia, double kb, long db, int ib) {
        if (ka != kb) return ka > kb;
        if (da != db) return da > db;
        return ia < ib;
    }

    private boolean less(int a, int b) {
        return greater(keys[b], docKeys[b], indices[b], keys[a], docKeys[a], indices[a]);
    }

    private void siftUp(int i) {
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!less(i, p)) break;
            swap(i, p);
            i = p;
        }
    }

    private void siftDown(int i) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) return;
            int m = l + 1 < size && less(l + 1, l) ? l + 1 : l;
            if (!less(m, i)) return;
            swap(i, m);
            i = m;
        }
    }

    private void swap(int a, int b) {
        double k0 = keys[a]; keys[a] = keys[b]; keys[b] = k0;
        long d0 = docKeys[a]; docKeys[a] = docKeys[b]; docKeys[b] = d0;
        int i0 = indices[a]; indices[a] = indices[b]; indices[b] = i0;
    }

    private void grow() {
        int cap = (int) Math.min(k, Math.max(1L, 2L * keys.length));
        keys = Arrays.copyOf(keys, cap);
        docKeys = Arrays.copyOf(docKeys, cap);
        indices = Arrays.copyOf(indices, cap);
    }
}
