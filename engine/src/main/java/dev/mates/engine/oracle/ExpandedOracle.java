package dev.mates.engine.oracle;

import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.train.FirstOrderInfluence;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Listener;

/**
 * What the fast oracles share: the reference gradient of the live state, expanded at θ + Δ0 or at θ, computed on the
 * first probe call and released on {@link #close()}.
 */
abstract class ExpandedOracle implements OracleProber {
    final Trainer trainer;
    final Tokenizer tokenizer;
    final Listener listener;
    private final TokenBatch reference;
    private final int evalBatch;
    private final boolean atDrift;
    private FirstOrderInfluence influence;

    /** {@code atDrift}: expand around θ + Δ0 (the default) or, with false, around θ ({@link Trainer#firstOrderInfluence}). */
    ExpandedOracle(Trainer trainer, TokenBatch reference, Tokenizer tokenizer, int evalBatch, Listener listener, boolean atDrift) {
        this.trainer = trainer;
        this.reference = reference;
        this.tokenizer = tokenizer;
        this.evalBatch = evalBatch;
        this.listener = listener;
        this.atDrift = atDrift;
    }

    /** The expansion of the live state, made once. */
    final FirstOrderInfluence influence() {
        if (influence == null) influence = trainer.firstOrderInfluence(reference, evalBatch, atDrift);
        return influence;
    }

    @Override
    public final void close() {
        if (influence != null) influence.close();
        influence = null;
    }
}
