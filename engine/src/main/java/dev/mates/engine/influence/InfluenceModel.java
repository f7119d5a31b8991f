package dev.mates.engine.influence;

import dev.mates.engine.data.Document;
import java.util.List;

/**
 * The data influence model f(x) of MATES: fitted on (document, oracle influence) pairs, it predicts the
 * z-scored influence of unseen documents. Lower = more helpful (the probe step lowered the reference loss).
 */
public interface InfluenceModel {
    /** Short name of the backbone, e.g. {@code minilm-int8} or {@code ngram}. */
    String backbone();

    /**
     * Fits on raw oracle labels (z-scored inside), 90/10 split by {@code seed}, keeping the epoch with the best
     * validation Spearman.
     */
    FitReport fit(List<Document> docs, double[] influence, long seed);

    /** Predicted z-scored influence for each document, in order. */
    double[] predict(List<Document> docs);

    /** Serialized fitted state (the trainable part), for the object store. */
    byte[] save();

    /** Approximate forward FLOPs to score one document of {@code tokens} tokens (for overhead accounting). */
    double flopsPerDoc(int tokens);
}
