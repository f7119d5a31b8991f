package dev.mates.engine.data;

import java.util.Arrays;

/**
 * Packs documents into fixed-length training sequences, each document followed by EOS. A sequence has
 * {@code seqLen + 1} tokens: inputs are {@code [0, seqLen)} and targets {@code [1, seqLen]}. Consecutive sequences
 * share one token (the last of one is the first of the next), so every token transition in the stream is a target
 * exactly once.
 */
public final class Packer {
    private final int seqLen;
    private final int eosId;
    private int[] buf;
    private int start;
    private int end;

    public Packer(int seqLen, int eosId) {
        if (seqLen < 1) throw new IllegalArgumentException("seqLen must be >= 1, got " + seqLen);
        this.seqLen = seqLen;
        this.eosId = eosId;
        this.buf = new int[Math.max(16, 2 * (seqLen + 1))];
    }

    /** Appends the document and then EOS. */
    public void add(int[] docTokens) {
        ensure(docTokens.length + 1);
        System.arraycopy(docTokens, 0, buf, end, docTokens.length);
        end += docTokens.length;
        buf[end++] = eosId;
    }

    public boolean ready() {
        return pending() >= seqLen + 1;
    }

    /** The next {@code seqLen + 1} tokens; keeps the last one as the start of the following sequence. */
    public int[] next() {
        if (!ready()) throw new IllegalStateException("only " + pending() + " tokens pending, need " + (seqLen + 1));
        int[] seq = Arrays.copyOfRange(buf, start, start + seqLen + 1);
        start += seqLen;
        return seq;
    }

    /** Tokens buffered and not yet consumed (the shared token counts as pending). */
    public int pending() {
        return end - start;
    }

    private void ensure(int extra) {
        if (end + extra <= buf.length) return;
        int live = end - start;
        int[] target = live + extra <= buf.length / 2 ? buf : new int[Math.max(buf.length * 2, live + extra)];
        System.arraycopy(buf, start, target, 0, live);
        buf = target;
        start = 0;
        end = live;
    }
}
