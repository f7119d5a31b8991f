package dev.mates.engine.select;

/**
 * The paper's baseline: k documents uniformly without replacement, independent of scores. Keyed by the same
 * counter-based noise as Gumbel-top-k, so it is sharded and reproduced the same way.
 */
public final class RandomSelector implements Selector {
    @Override
    public String name() {
        return "random";
    }

    @Override
    public boolean needsScores() {
        return false;
    }

    @Override
    public Selection begin(int k, long seed, int stage) {
        return new TopKSelection(k, seed, stage, 0.0, true);
    }
}
