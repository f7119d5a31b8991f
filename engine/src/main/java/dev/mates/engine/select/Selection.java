package dev.mates.engine.select;

/**
 * Streaming accumulator for one stage's selection. {@link #offer} each candidate once (in any order, on any
 * shard), {@link #merge} shard accumulators, then {@link #result}.
 */
public interface Selection {
    /** Offers candidate {@code index} whose document key is {@code docKey} and influence score {@code score}. */
    void offer(long docKey, int index, double score);

    void merge(Selection other);

    /** The selected candidate indices, ordered by decreasing selection key. */
    int[] result();
}
