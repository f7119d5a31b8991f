package dev.mates.engine.train;

import java.util.Map;

/**
 * The change of the reference loss that one AdamW step on a probe x would cause, to first order: I(x) ≈ ∇L_ref · Δθ(x),
 * with ∇L_ref taken once at the live state and kept as native tensors (nothing is copied to the Java heap per probe).
 * Two ways to get Δθ(x):
 * <ul>
 *   <li>{@link #adamW}: the true next AdamW update from the live state (clipping and the g_x² term of v included), one
 *       backward per probe;</li>
 *   <li>{@link #linearised}: AdamW linearised around the live state, with the second moments taken from the state and
 *       no clipping, so Δθ(x) is affine in g_x = ∇L_x and I(x) = a − b·(u·g_x) with u = ∇L_ref ⊙ 1/(√v̂+ε); u·g_x for a
 *       whole batch of probes is the directional derivative of each probe's loss along u, from two batched forward
 *       passes at θ ± h·u (central differences), no backward at all.</li>
 * </ul>
 * The trainer's weights and moments are exactly the same after every call as before. Close it to free the tensors.
 */
public interface FirstOrderInfluence extends AutoCloseable {
    /** ∇L_ref · Δθ(x) for the true next AdamW update on {@code probe} (one forward and backward). */
    double adamW(TokenBatch probe);

    /**
     * Per row of {@code rows}: a − b·(u·∇L_row), the linearised-AdamW first-order influence of a step on that row alone.
     * {@code batchSize} rows are evaluated per forward pass.
     */
    double[] linearised(TokenBatch rows, int batchSize);

    /** Per row: u·∇L_row by central differences of the row's mean loss at θ ± h·u. */
    double[] directionalDerivatives(TokenBatch rows, int batchSize);

    /** The direction u = ∇L_ref ⊙ 1/(√v̂+ε), copied to the heap (for tests and diagnostics). */
    Map<String, float[]> direction();

    @Override
    void close();
}
