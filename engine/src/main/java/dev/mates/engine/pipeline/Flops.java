package dev.mates.engine.pipeline;

/**
 * The FLOPs a run executes, counted in one place (N = model parameters; a forward pass costs 2N per token, a
 * forward and backward pass 6N, the usual dense-transformer estimate that ignores attention's context term). Only
 * training and selection count: evaluating the curves is measurement, the same for every arm.
 */
public final class Flops {
    private Flops() {}

    /** Training: forward and backward on every token. */
    public static double train(long params, double tokens) {
        return 6.0 * params * tokens;
    }

    /**
     * The exact oracle: the reference loss at the live state once, then per probe one training step on the probe and
     * the reference loss again.
     */
    public static double exactProbes(long params, double probeTokens, int probes, double referenceTokens) {
        return 6.0 * params * probeTokens + 2.0 * params * referenceTokens * (probes + 1);
    }

    /**
     * Once per state for both fast oracles: the reference loss at θ and at θ + Δ0 (two forward passes) and the
     * reference gradient at θ + Δ0 (forward and backward).
     */
    static double expansion(long params, double referenceTokens) {
        return 10.0 * params * referenceTokens;
    }

    /** The directional oracle: the expansion, then two forward passes (at θ ± h·u) over every probe token. */
    public static double directionalProbes(long params, double probeTokens, double referenceTokens) {
        return expansion(params, referenceTokens) + 4.0 * params * probeTokens;
    }

    /** The first-order oracle: the expansion, then per probe a forward and backward for its update. */
    public static double firstOrderProbes(long params, double probeTokens, double referenceTokens) {
        return expansion(params, referenceTokens) + 6.0 * params * probeTokens;
    }
}
