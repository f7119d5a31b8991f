package dev.mates.engine.oracle;

import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.train.FirstOrderInfluence;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.util.List;

/**
 * First-order oracle: I(x) ≈ ∇L_ref · Δθ(x), where Δθ(x) is the true AdamW update one step on x would make from the
 * current state (clipping and the second-moment update included). One reference backward, then one forward/backward
 * per probe, the dot product done natively. Its agreement with {@link ExactOracle} is measured (Spearman), never
 * assumed.
 */
public final class FirstOrderOracle extends ExpandedOracle {
    public FirstOrderOracle(Trainer trainer, TokenBatch reference, Tokenizer tokenizer, int evalBatch, Listener listener) {
        this(trainer, reference, tokenizer, evalBatch, listener, true);
    }

    /** {@code atDrift}: expand around θ + Δ0 (the default) or, with false, around θ ({@link Trainer#firstOrderInfluence}). */
    public FirstOrderOracle(Trainer trainer, TokenBatch reference, Tokenizer tokenizer, int evalBatch, Listener listener,
              boolean atDrift) {
        super(trainer, reference, tokenizer, evalBatch, listener, atDrift);
    }

    @Override
    public double[] probe(List<Document> probes) {
        FirstOrderInfluence influence = influence();
        double[] out = new double[probes.size()];
        Progress bar = new Progress(listener, "probing", probes.size(), "probes");
        for (int i = 0; i < probes.size(); i++) {
            out[i] = influence.adamW(ReferenceSet.single(probes.get(i), tokenizer, trainer.config().context()));
            bar.step(1);
        }
        bar.done("first-order oracle");
        return out;
    }
}
