package dev.mates.engine.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.mates.engine.influence.InfluenceModel;

/** The fit phase: the stage's influence model (not reported), its validation correlations and cost. */
public record FitResult(String backbone, int train, int val, int epochs, int bestEpoch, double valSpearman,
                        double valPearson, double seconds, double flops, @JsonIgnore InfluenceModel model,
                        @JsonIgnore String modelRef) {}
