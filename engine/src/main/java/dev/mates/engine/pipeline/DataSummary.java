package dev.mates.engine.pipeline;

/** The data a run used, as counted by its {@link DataPlan} and inputs. */
public record DataSummary(int poolDocuments, int probeDocuments, int referenceDocuments, long referenceTargets,
                          int heldoutDocuments, double meanDocumentTokens, int selectionK, int candidatePool,
                          int tokenizerVocab) {}
