package dev.mates.engine.score;

import dev.mates.engine.data.Document;
import java.util.List;

/** Predicts the influence of every document of a candidate pool with a fitted influence model. */
public interface Scorer {
    /** Scores in the order of {@code pool}; lower = more helpful. */
    double[] score(List<Document> pool);
}
