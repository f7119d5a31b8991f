package dev.mates.engine.select;

/**
 * Chooses k documents from scored candidates. Implementations are streaming (O(k) memory) and deterministic
 * given (seed, stage, document key): the same candidates always give the same selection, however they are
 * split into shards.
 */
public interface Selector {
    String name();

    /**
     * Whether the selector ranks by influence scores, i.e. whether its arm needs the stage's probe → fit → score
     * phases. A selector that does not (random) ignores the scores it is offered.
     */
    default boolean needsScores() {
        return true;
    }

    /** A fresh streaming top-k accumulator for one stage. */
    Selection begin(int k, long seed, int stage);
}
