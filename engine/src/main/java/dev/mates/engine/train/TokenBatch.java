package dev.mates.engine.train;

/**
 * A padded batch: inputs and targets (B, T) token ids, and a mask (B, T) with 1 where a target counts.
 * Plain documents count every real target; LAMBADA-style records count only the target word's tokens.
 */
public record TokenBatch(int[][] inputs, int[][] targets, float[][] mask) {
    public int size() {
        return inputs.length;
    }

    public int length() {
        return inputs.length == 0 ? 0 : inputs[0].length;
    }

    public long countedTokens() {
        long n = 0;
        for (float[] row : mask) for (float m : row) if (m > 0) n++;
        return n;
    }

    /** Packed training sequences of T+1 tokens: every position counts. */
    public static TokenBatch ofSequences(int[][] sequences) {
        int b = sequences.length;
        int t = sequences[0].length - 1;
        int[][] in = new int[b][t];
        int[][] tg = new int[b][t];
        float[][] m = new float[b][t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(sequences[i], 0, in[i], 0, t);
            System.arraycopy(sequences[i], 1, tg[i], 0, t);
            java.util.Arrays.fill(m[i], 1f);
        }
        return new TokenBatch(in, tg, m);
    }

    /**
     * Variable-length token rows (each ≤ T+1 tokens), right-padded with {@code pad}. {@code firstCounted[i]} is
     * the first target position of row i that counts (0 for plain documents).
     */
    public static TokenBatch ofRows(int[][] rows, int[] firstCounted, int pad) {
        int b = rows.length;
        int t = 1;
        for (int[] r : rows) t = Math.max(t, r.length - 1);
        int[][] in = new int[b][t];
        int[][] tg = new int[b][t];
        float[][] m = new float[b][t];
        for (int i = 0; i < b; i++) {
            java.util.Arrays.fill(in[i], pad);
            java.util.Arrays.fill(tg[i], pad);
            int n = rows[i].length - 1;
            for (int j = 0; j < n; j++) {
                in[i][j] = rows[i][j];
                tg[i][j] = rows[i][j + 1];
                m[i][j] = j >= firstCounted[i] ? 1f : 0f;
            }
        }
        return new TokenBatch(in, tg, m);
    }

    /** Rows [from, to) as a new batch. */
    public TokenBatch slice(int from, int to) {
        return new TokenBatch(java.util.Arrays.copyOfRange(inputs, from, to),
                java.util.Arrays.copyOfRange(targets, from, to), java.util.Arrays.copyOfRange(mask, from, to));
    }
}
