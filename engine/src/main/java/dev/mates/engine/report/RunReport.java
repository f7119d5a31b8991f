package dev.mates.engine.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mates.engine.pipeline.ArmResult;
import dev.mates.engine.pipeline.DataSummary;
import dev.mates.engine.pipeline.EvalPoint;
import dev.mates.engine.pipeline.Flops;
import dev.mates.engine.pipeline.RunResult;
import dev.mates.engine.pipeline.SelectionResult;
import dev.mates.engine.pipeline.StageResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * report.json (docs/report-schema.md), built from the typed results of a run and serialized by Jackson with
 * snake_case names. Absent values (no held-out set, a random arm's oracle) are left out, except
 * {@code token_efficiency}, which is null when the selector arm never reached the baseline's loss.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunReport(String run, boolean demo, Boolean distributed, double wallSeconds, long modelParameters,
                        Map<String, String> config, DataSummary data, String baselineBudget, Map<String, Arm> arms,
                        List<Stage> stages, @JsonInclude(JsonInclude.Include.ALWAYS) Double tokenEfficiency,
                        @JsonInclude(JsonInclude.Include.ALWAYS) Double computeEfficiency, Rejects rejects) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * One arm's curve and totals; training FLOPs are 6 × parameters × tokens, total FLOPs training plus selection
     * overhead; budget steps are the extra steps a baseline trained to match the selector arm's total FLOPs.
     */
    public record Arm(List<EvalPoint> curve, long tokens, double finalReferenceLoss, Double finalHeldoutLoss,
                      double selectionOverheadSeconds, double selectionOverheadFlops, double trainFlops,
                      double totalFlops, int budgetSteps) {}

    /** A stage of the selector arm, with what the baseline arm selected from the same candidates. */
    public record Stage(@JsonUnwrapped StageResult result, BaselineSelection baselineSelection) {}

    public record BaselineSelection(String selector, int k, Map<String, Integer> composition) {}

    /** Rejected input records: how many, by kind, and where they are listed. */
    public record Rejects(long count, Map<String, Long> byKind, String file) {}

    /** The report of {@code r}: the first arm is the selector's, the second (if any) the baseline's. */
    public static RunReport of(RunResult r, boolean demo, boolean distributed, double wallSeconds, Rejects rejects) {
        Map<String, Arm> arms = new LinkedHashMap<>();
        for (ArmResult a : r.arms()) {
            EvalPoint last = a.last();
            double train = Flops.train(r.modelParameters(), last.tokens());
            arms.put(a.name(), new Arm(a.curve(), last.tokens(), last.referenceLoss(), last.heldoutLoss(),
                    a.overheadSeconds(), a.overheadFlops(), train, train + a.overheadFlops(), a.budgetSteps()));
        }
        ArmResult selector = r.arms().get(0);
        ArmResult baseline = r.arms().size() > 1 ? r.arms().get(1) : null;
        List<Stage> stages = new ArrayList<>();
        for (int i = 0; i < selector.stages().size(); i++) {
            SelectionResult b = baseline == null || i >= baseline.stages().size() ? null : baseline.stages().get(i).selection();
            stages.add(new Stage(selector.stages().get(i),
                    b == null ? null : new BaselineSelection(b.selector(), b.k(), b.composition())));
        }
        return new RunReport(r.run(), demo, distributed ? Boolean.TRUE : null, wallSeconds, r.modelParameters(), r.config(),
                r.data(), r.config().get("mates.baseline_budget"), arms, stages,
                baseline == null ? null : tokenEfficiency(selector, baseline),
                baseline == null ? null : computeEfficiency(selector, baseline), rejects);
    }

    /**
     * Tokens the selector arm needed to reach the baseline's reference loss at equal tokens (its last evaluation
     * at or before the selector arm's final tokens, so budget steps do not count) ÷ those tokens, with linear
     * interpolation between evaluation points; null when the selector arm never reached it.
     */
    public static Double tokenEfficiency(ArmResult selector, ArmResult baseline) {
        // At equal tokens: the baseline as it stood at the selector arm's tokens, before any budget steps.
        long tokens = selector.last().tokens();
        List<EvalPoint> upTo = baseline.curve().stream().filter(p -> p.tokens() <= tokens).toList();
        if (upTo.isEmpty()) return null;
        ArmResult equalTokens = new ArmResult(baseline.name(), baseline.stages(), upTo, baseline.overheadSeconds(),
                baseline.overheadFlops(), 0);
        return efficiency(selector, equalTokens, p -> (double) p.tokens());
    }

    /**
     * Total FLOPs (training + selection overhead, along the curve) the selector arm needed to reach the baseline's
     * final reference loss ÷ the baseline's total FLOPs, interpolated like {@link #tokenEfficiency}; null when never
     * reached.
     */
    public static Double computeEfficiency(ArmResult selector, ArmResult baseline) {
        return efficiency(selector, baseline, EvalPoint::flops);
    }

    private static Double efficiency(ArmResult selector, ArmResult baseline, ToDoubleFunction<EvalPoint> axis) {
        double target = baseline.last().referenceLoss();
        List<EvalPoint> curve = selector.curve();
        for (int i = 0; i < curve.size(); i++) {
            EvalPoint p = curve.get(i);
            if (p.referenceLoss() <= target) {
                double x = axis.applyAsDouble(p);
                if (i > 0) {
                    EvalPoint prev = curve.get(i - 1);
                    if (prev.referenceLoss() > p.referenceLoss()) {
                        double x0 = axis.applyAsDouble(prev);
                        x = x0 + (prev.referenceLoss() - target) / (prev.referenceLoss() - p.referenceLoss()) * (x - x0);
                    }
                }
                return x / axis.applyAsDouble(baseline.last());
            }
        }
        return null;
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize the report of run " + run, e);
        }
    }
}
