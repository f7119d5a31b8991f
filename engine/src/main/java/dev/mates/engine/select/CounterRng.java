package dev.mates.engine.select;

import dev.mates.engine.data.Hashing;

/**
 * Counter-based randomness for selection noise: a pure function of (seed, stage, document key). A stream RNG
 * would make a document's noise depend on the order it was scored in and on which shard scored it; keyed noise
 * makes every shard agree and makes a rerun reproduce the manifest bit for bit (docs/architecture.md, "Selection").
 */
public final class CounterRng {
    private static final double TWO_POW_53 = 0x1p53;

    private CounterRng() {}

    /** Uniform in the open interval (0,1); 53 bits, so never 0 or 1 and {@link #gumbel} is always finite. */
    public static double uniform(long seed, int stage, long docKey) {
        // Chained finalizers rather than one XOR so that swapping seed and docKey does not collide.
        long h = Hashing.mix64(seed + 0x9e3779b97f4a7c15L);
        h = Hashing.mix64(h ^ (stage * 0xd1b54a32d192ed03L + 0x632be59bd9b4e019L));
        h = Hashing.mix64(h ^ docKey);
        // Mid-point of one of 2^53 equal cells: symmetric and strictly inside (0,1).
        return ((h >>> 11) + 0.5) / TWO_POW_53;
    }

    /** Standard Gumbel(0,1): −ln(−ln u). */
    public static double gumbel(long seed, int stage, long docKey) {
        return -Math.log(-Math.log(uniform(seed, stage, docKey)));
    }
}
