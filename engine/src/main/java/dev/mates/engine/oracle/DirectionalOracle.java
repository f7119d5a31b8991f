package dev.mates.engine.oracle;

import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.train.FirstOrderInfluence;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The batched fast oracle: AdamW linearised around the live state (second moments from the state, no clipping), so
 * I(x) ≈ a − b·(u·∇L_x) with u = ∇L_ref ⊙ 1/(√v̂+ε); u·∇L_x for a whole batch of probes is the directional derivative
 * of each probe's loss along u, from two forward passes at θ ± h·u. One reference backward per state, then forward
 * passes only: no per-probe backward, no per-probe reference evaluation. What the linearisation drops (clipping, the
 * probe's g² in v) is what its Spearman against {@link ExactOracle} measures.
 */
public final class DirectionalOracle extends ExpandedOracle {
    /** Probe rows per forward pass. */
    static final int ROWS_PER_PASS = 64;

    public DirectionalOracle(Trainer trainer, TokenBatch reference, Tokenizer tokenizer, int evalBatch, Listener listener) {
        this(trainer, reference, tokenizer, evalBatch, listener, true);
    }

    /** {@code atDrift}: expand around θ + Δ0 (the default) or, with false, around θ ({@link Trainer#firstOrderInfluence}). */
    public DirectionalOracle(Trainer trainer, TokenBatch reference, Tokenizer tokenizer, int evalBatch, Listener listener,
              boolean atDrift) {
        super(trainer, reference, tokenizer, evalBatch, listener, atDrift);
    }

    @Override
    public double[] probe(List<Document> probes) {
        FirstOrderInfluence influence = influence();
        double[] out = new double[probes.size()];
        Progress bar = new Progress(listener, "probing", probes.size(), "probes");
        int context = trainer.config().context();
        int[][] rows = new int[probes.size()][];
        for (int i = 0; i < rows.length; i++) rows[i] = ReferenceSet.documentTokens(probes.get(i), tokenizer, context);
        // Rows of similar length share a forward pass, so almost nothing is spent on padding.
        Integer[] order = new Integer[rows.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> rows[i].length));
        for (int from = 0; from < order.length; from += ROWS_PER_PASS) {
            int to = Math.min(order.length, from + ROWS_PER_PASS);
            int[][] pass = new int[to - from][];
            for (int i = from; i < to; i++) pass[i - from] = rows[order[i]];
            double[] got = influence.linearised(TokenBatch.ofRows(pass, new int[pass.length], tokenizer.eosId()), ROWS_PER_PASS);
            for (int i = from; i < to; i++) out[order[i]] = got[i - from];
            bar.step(to - from);
        }
        bar.done("directional oracle");
        return out;
    }
}
