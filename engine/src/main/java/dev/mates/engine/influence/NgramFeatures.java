package dev.mates.engine.influence;

import dev.mates.engine.data.Hashing;
import java.util.Arrays;

/**
 * Hashed sparse features of a text: lowercase word unigrams and bigrams and character 3-grams, each feature's
 * count as sign·log(1+count) in one of 2^18 buckets, L2-normalised. The sign (the hashing trick) makes bucket
 * collisions cancel in expectation instead of piling up. Not thread-safe: one instance per thread reuses its
 * buffers so that featurising a document allocates only its result.
 */
final class NgramFeatures {
    static final int BITS = 18;
    static final int DIM = 1 << BITS;
    private static final long UNIGRAM = 0x243f6a8885a308d3L;
    private static final long BIGRAM = 0x13198a2e03707344L;
    private static final long TRIGRAM = 0xa4093822299f31d0L;

    /** Sparse vector; {@code idx} ascending and unique. */
    record Sparse(int[] idx, float[] val) {}

    private long[] hashes = new long[1024];
    private int n;

    Sparse extract(String text) {
        n = 0;
        long prevWord = 0;
        boolean havePrev = false;
        long word = 0xcbf29ce484222325L;
        int wordLen = 0;
        // Character 3-grams run over the text with every non-alphanumeric run collapsed to one space and a space
        // on both ends, so word boundaries are part of the 3-grams.
        char c1 = ' ', c2 = ' ';
        int seen = 1;
        int len = text.length();
        for (int i = 0; i <= len; i++) {
            char c = i < len ? text.charAt(i) : ' ';
            boolean alnum = Character.isLetterOrDigit(c);
            char lc = alnum ? Character.toLowerCase(c) : ' ';
            if (alnum) {
                word = (word ^ lc) * 0x100000001b3L;
                wordLen++;
            } else if (wordLen > 0) {
                add(Hashing.mix64(word ^ UNIGRAM));
                if (havePrev) add(Hashing.mix64(prevWord * 0x9e3779b97f4a7c15L + word ^ BIGRAM));
                prevWord = word;
                havePrev = true;
                word = 0xcbf29ce484222325L;
                wordLen = 0;
            }
            if (lc == ' ' && c2 == ' ') continue;
            if (++seen >= 3) add(Hashing.mix64(((long) c1 << 32 | (long) c2 << 16 | lc) ^ TRIGRAM));
            c1 = c2;
            c2 = lc;
        }
        return toSparse();
    }

    private void add(long h) {
        if (n == hashes.length) hashes = Arrays.copyOf(hashes, 2 * n);
        // Stored with the sign bit flipped so that a signed sort orders the hashes as unsigned: by bucket.
        hashes[n++] = h ^ Long.MIN_VALUE;
    }

    private Sparse toSparse() {
        // The bucket is the top bits of the hash, so sorting groups equal features and then equal buckets.
        Arrays.sort(hashes, 0, n);
        int[] idx = new int[n];
        float[] val = new float[n];
        int nnz = 0;
        double norm2 = 0;
        int i = 0;
        while (i < n) {
            long stored = hashes[i];
            int j = i + 1;
            while (j < n && hashes[j] == stored) j++;
            long h = stored ^ Long.MIN_VALUE;
            float v = (float) (((h & 1) == 0 ? 1 : -1) * Math.log1p(j - i));
            int bucket = (int) (h >>> (64 - BITS));
            if (nnz > 0 && idx[nnz - 1] == bucket) {
                norm2 -= (double) val[nnz - 1] * val[nnz - 1];
                val[nnz - 1] += v;
            } else {
                idx[nnz] = bucket;
                val[nnz++] = v;
            }
            norm2 += (double) val[nnz - 1] * val[nnz - 1];
            i = j;
        }
        float inv = norm2 > 0 ? (float) (1 / Math.sqrt(norm2)) : 0f;
        for (int t = 0; t < nnz; t++) val[t] *= inv;
        return new Sparse(Arrays.copyOf(idx, nnz), Arrays.copyOf(val, nnz));
    }
}
