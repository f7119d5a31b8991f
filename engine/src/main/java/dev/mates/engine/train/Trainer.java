package dev.mates.engine.train;

import java.util.Map;

/**
 * The train role: a language model with its optimizer state. Everything a probe or a checkpoint needs (weights,
 * AdamW moments, step) is reachable through {@link #checkpoint()} / {@link #restore(Checkpoint)}, and the
 * cheaper in-memory {@link #snapshot()} / {@link #restoreSnapshot()} used between oracle probes.
 */
public interface Trainer extends AutoCloseable {
    GptConfig config();

    /** Optimizer steps taken so far. */
    long step();

    /** One optimizer step on the batch; returns its training loss (before the update). */
    double trainStep(TokenBatch batch);

    /** Mean loss over every counted target of {@code set}, evaluated in chunks of {@code batchSize} rows. */
    double evaluate(TokenBatch set, int batchSize);

    /** Gradient of the mean loss over {@code set} w.r.t. every parameter (flattened, in parameter order). */
    Map<String, float[]> gradient(TokenBatch set, int batchSize);

    /**
     * The parameter change AdamW would make on {@code batch} from the current state, without applying it
     * (flattened, in parameter order).
     */
    Map<String, float[]> proposedUpdate(TokenBatch batch);

    /**
     * The reference gradient, kept natively for first-order influence probes (fast oracles): taken at the live
     * weights, or with {@code atDrift} at the weights after the part of the next AdamW step that is the same for
     * every probe (momentum and weight decay). Valid until the state changes; close it before training on.
     */
    FirstOrderInfluence firstOrderInfluence(TokenBatch reference, int batchSize, boolean atDrift);

    /** Copies weights, moments and step into memory. */
    void snapshot();

    /** Puts back exactly what the last {@link #snapshot()} copied. */
    void restoreSnapshot();

    Checkpoint checkpoint();

    void restore(Checkpoint checkpoint);

    @Override
    void close();
}
