package dev.mates.engine.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * One stage of one arm, phase by phase. {@code oracle}, {@code influence} and {@code scoring} are null for a
 * selector that needs no scores (random).
 */
public record StageResult(int stage, long step, OracleResult oracle, FitResult influence, ScoreResult scoring,
                          SelectionResult selection, TrainResult train) {

    /** Selection overhead of the stage: probe + fit + score wall time. */
    @JsonIgnore
    public double overheadSeconds() {
        return oracle == null ? 0 : oracle.seconds() + influence.seconds() + scoring.seconds();
    }

    /** Selection overhead of the stage in FLOPs: probe + fit + score. */
    @JsonIgnore
    public double overheadFlops() {
        return overheadFlops(oracle, influence, scoring);
    }

    /** The FLOPs of a stage's probe, fit and score phases (0 when it had none). */
    public static double overheadFlops(OracleResult oracle, FitResult influence, ScoreResult scoring) {
        return oracle == null ? 0 : oracle.flops() + influence.flops() + scoring.flops();
    }
}
