package dev.mates.engine.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.mates.engine.influence.InfluenceModel;

/**
 * The fit phase: the stage's influence model (not reported), its validation correlations with the 95% interval of the
 * Spearman ({@link dev.mates.engine.util.Correlation#spearmanInterval}), and cost. The best epoch is chosen on the
 * {@code tune} documents; the correlations are measured on the {@code val} documents.
 */
public record FitResult(String backbone, int train, int tune, int val, int epochs, int bestEpoch, double valSpearman,
                        double valSpearmanLow, double valSpearmanHigh, double valPearson, double seconds, double flops,
                        @JsonIgnore InfluenceModel model, @JsonIgnore String modelRef) {}
