package dev.mates.engine.select;

/**
 * MATES selection: key(x) = −f(x)/τ + G(seed, stage, x), take the k largest. By the Gumbel-max trick this samples
 * k documents without replacement with P ∝ exp(−f/τ) (Plackett–Luce), so lower (more helpful) predicted
 * influence is more likely. The reference code adds the noise to a bottom-k of f, i.e. uses a negated Gumbel,
 * which is not this distribution; we implement the exact one.
 */
public final class GumbelTopKSelector implements Selector {
    private final double tau;

    public GumbelTopKSelector(double tau) {
        if (!(tau > 0) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException("selection.tau must be a finite number > 0, got " + tau);
        }
        this.tau = tau;
    }

    @Override
    public String name() {
        return "gumbel-topk";
    }

    @Override
    public Selection begin(int k, long seed, int stage) {
        return new TopKSelection(k, seed, stage, 1.0 / tau, true);
    }
}
