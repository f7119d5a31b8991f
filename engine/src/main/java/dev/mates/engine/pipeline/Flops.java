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
     * The directional oracle: one reference gradient, then two forward passes (at θ ± h·u) over every probe token.
     */
    public static double directionalProbes(long params, double probeTokens, double referenceTokens) {
        return 4.0 * params * probeTokens + 6.0 * params * referenceTokens;
    }

    /** The first-order oracle: one reference gradient, then per probe a forward and backward for its update. */
    public static double firstOrderProbes(long params, double probeTokens, double referenceTokens) {
        return 6.0 * params * probeTokens + 6.0 * params * referenceTokens;
    }
}
