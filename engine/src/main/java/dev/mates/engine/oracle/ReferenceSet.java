package dev.mates.engine.oracle;

import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.train.TokenBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns reference, held-out and probe documents into token batches. A plain document counts the loss on every
 * token — one that is longer than the context becomes several rows, consecutive like packed training sequences, so
 * none of its tokens is dropped; a LAMBADA-style record (meta {@code "context"} and {@code "target"}) counts only the
 * target's tokens, as in the paper's reference task, with as much of the context before it as fits.
 */
public final class ReferenceSet {
    private ReferenceSet() {}

    public static boolean isTargeted(Document d) {
        return d.meta().containsKey("target") && d.meta().containsKey("context");
    }

    public static TokenBatch batch(List<Document> docs, Tokenizer tok, int context) {
        if (docs.isEmpty()) throw new IllegalArgumentException("reference set is empty");
        List<int[]> rowList = new ArrayList<>();
        List<Integer> firstList = new ArrayList<>();
        for (Document d : docs) {
            if (!isTargeted(d)) {
                // tokens then EOS, cut into rows of context + 1 that share one token, as the Packer cuts training data
                int[] t = tok.encode(d.text());
                int[] all = Arrays.copyOf(t, t.length + 1);
                all[t.length] = tok.eosId();
                for (int from = 0; from == 0 || from < all.length - 1; from += context) {
                    rowList.add(Arrays.copyOfRange(all, from, Math.min(all.length, from + context + 1)));
                    firstList.add(0);
                }
                continue;
            }
            int[] c = tok.encode(d.meta().get("context"));
            int[] t = tok.encode(d.meta().get("target"));
            int keepContext = Math.max(1, Math.min(c.length, context + 1 - t.length));
            int[] row = new int[keepContext + t.length];
            // Keep the end of the context: the words right before the target carry the signal.
            System.arraycopy(c, c.length - keepContext, row, 0, keepContext);
            System.arraycopy(t, 0, row, keepContext, Math.min(t.length, row.length - keepContext));
            rowList.add(Arrays.copyOf(row, Math.min(row.length, context + 1)));
            firstList.add(keepContext - 1);
        }
        return TokenBatch.ofRows(rowList.toArray(int[][]::new), firstList.stream().mapToInt(Integer::intValue).toArray(),
                tok.eosId());
    }

    /** A document as one training row: its tokens then EOS, cut to context + 1. */
    public static int[] documentTokens(Document d, Tokenizer tok, int context) {
        int[] t = tok.encode(d.text());
        int[] row = Arrays.copyOf(t, Math.min(t.length + 1, context + 1));
        if (t.length < row.length) row[t.length] = tok.eosId();
        return row;
    }

    public static TokenBatch single(Document d, Tokenizer tok, int context) {
        return TokenBatch.ofRows(new int[][] {documentTokens(d, tok, context)}, new int[] {0}, tok.eosId());
    }
}
