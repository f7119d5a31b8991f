package dev.mates.engine.influence;

/** What one fit of the influence model measured. Correlations are on the held-out 10% of the labels. */
public record FitReport(String backbone, int trainSize, int tuneSize, int valSize, int epochs, int bestEpoch,
                        double valSpearman, double valPearson, double seconds) {}
