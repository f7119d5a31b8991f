package dev.mates.engine.pipeline;

import java.util.List;

/**
 * A finished arm: its stages, its loss curve (warm-up included), the selection overhead it spent, and the extra
 * training steps it took to match the first arm's total FLOPs ({@code mates.baseline_budget = flops}).
 */
public record ArmResult(String name, List<StageResult> stages, List<EvalPoint> curve, double overheadSeconds,
                        double overheadFlops, int budgetSteps) {
    public EvalPoint last() {
        return curve.get(curve.size() - 1);
    }
}
