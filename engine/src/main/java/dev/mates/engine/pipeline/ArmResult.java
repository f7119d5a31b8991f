package dev.mates.engine.pipeline;

import java.util.List;

/** A finished arm: its stages, its loss curve (warm-up included) and the selection overhead it spent. */
public record ArmResult(String name, List<StageResult> stages, List<EvalPoint> curve, double overheadSeconds,
                        double overheadFlops) {
    public EvalPoint last() {
        return curve.get(curve.size() - 1);
    }
}
