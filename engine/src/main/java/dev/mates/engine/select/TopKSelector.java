package dev.mates.engine.select;

/** Deterministic baseline: the k lowest (most helpful) scores; the seed plays no part. */
public final class TopKSelector implements Selector {
    @Override
    public String name() {
        return "topk";
    }

    @Override
    public Selection begin(int k, long seed, int stage) {
        return new TopKSelection(k, seed, stage, 1.0, false);
    }
}
