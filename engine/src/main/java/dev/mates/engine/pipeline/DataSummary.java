package dev.mates.engine.pipeline;

/**
 * The data a run used, as counted by its inputs and {@link DataPlan}: documents read and the data points made of
 * them (split or truncated when longer than a data point), probes, and the tokens the reference and held-out
 * losses are averaged over.
 */
public record DataSummary(int poolDocuments, int poolDataPoints, int splitDocuments, int truncatedDocuments,
                          long truncatedTokens, int probeDataPoints, int probesPerStage, int referenceDocuments,
                          int referenceRows, long referenceTargets, int heldoutDocuments, long heldoutTargets,
                          double meanDataPointTokens, int selectionK, int candidatePool, int tokenizerVocab) {}
