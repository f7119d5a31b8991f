package dev.mates.engine.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mates.engine.pipeline.ArmResult;
import dev.mates.engine.pipeline.DataSummary;
import dev.mates.engine.pipeline.EvalPoint;
import dev.mates.engine.pipeline.RunResult;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunReportTest {
    static ArmResult arm(String name, double... losses) {
        return withOverhead(name, 0, losses);
    }

    /** A curve with 1000 tokens (6000 FLOPs of training) between points, plus {@code overhead} FLOPs from the start. */
    static ArmResult withOverhead(String name, double overhead, double... losses) {
        List<EvalPoint> curve = new java.util.ArrayList<>();
        for (int i = 0; i < losses.length; i++) {
            curve.add(new EvalPoint(i * 10L, i * 1000L, 6000.0 * i + (i > 0 ? overhead : 0), losses[i], null));
        }
        return new ArmResult(name, List.of(), curve, 0, overhead, 0);
    }

    @Test
    void computeEfficiencyCountsTheSelectionOverheadAlongTheCurve() {
        ArmResult baseline = arm("random", 8, 6, 5, 4.5, 4.0); // 24000 FLOPs in all
        // Reaches 4.0 at 2500 tokens = 15000 training FLOPs, plus 3000 overhead: 18000 / 24000.
        assertEquals(18000.0 / 24000, RunReport.computeEfficiency(withOverhead("mates", 3000, 8, 5, 4.5, 3.5, 3.0), baseline), 1e-12);
        assertEquals(2500.0 / 4000, RunReport.tokenEfficiency(withOverhead("mates", 3000, 8, 5, 4.5, 3.5, 3.0), baseline), 1e-12);
        // So much overhead that the same curve costs more than the baseline's whole run: > 1.
        assertEquals((15000.0 + 30000) / 24000, RunReport.computeEfficiency(withOverhead("mates", 30000, 8, 5, 4.5, 3.5, 3.0), baseline), 1e-12);
        assertNull(RunReport.computeEfficiency(withOverhead("mates", 10, 8, 7, 6, 5, 4.01), baseline));
    }

    @Test
    void tokenEfficiencyInterpolatesBetweenEvaluationPoints() {
        ArmResult baseline = arm("random", 8, 6, 5, 4.5, 4.0);
        // Reaches 4.0 between tokens 2000 (loss 4.5) and 3000 (loss 3.5): at 2500 → 2500 / 4000.
        assertEquals(2500.0 / 4000, RunReport.tokenEfficiency(arm("mates", 8, 5, 4.5, 3.5, 3.0), baseline), 1e-12);
        // Reached exactly at an evaluation point.
        assertEquals(3000.0 / 4000, RunReport.tokenEfficiency(arm("mates", 8, 6, 5, 4.0, 3.9), baseline), 1e-12);
        // Already at the target before training (first point): no interpolation below zero.
        assertEquals(0.0, RunReport.tokenEfficiency(arm("mates", 3.9, 3.8), baseline), 1e-12);
        // Equal to the baseline curve: 1.
        assertEquals(1.0, RunReport.tokenEfficiency(arm("mates", 8, 6, 5, 4.5, 4.0), baseline), 1e-12);
    }

    @Test
    void tokenEfficiencyIsAtEqualTokensEvenWhenTheBaselineTrainedBudgetSteps() {
        ArmResult mates = arm("mates", 8, 5, 4.5, 3.5, 3.0); // 4000 tokens
        ArmResult longer = arm("random", 8, 6, 5, 4.5, 4.0, 3.2, 2.9); // 6000 tokens, the last two are budget steps
        assertEquals(2500.0 / 4000, RunReport.tokenEfficiency(mates, longer), 1e-12);
        assertNull(RunReport.computeEfficiency(mates, longer), "at equal FLOPs the baseline ends lower: never reached");
    }

    @Test
    void tokenEfficiencyIsNullWhenNeverReached() {
        assertNull(RunReport.tokenEfficiency(arm("mates", 8, 7, 6, 5, 4.01), arm("random", 8, 6, 5, 4.5, 4.0)));
    }

    @Test
    void aReportWithoutBaselineHasANullTokenEfficiencyAndNoAbsentFields() throws Exception {
        RunResult r = new RunResult("x", Map.of("seed", "1", "mates.baseline_budget", "flops"), 100, new DataSummary(8, 10, 1, 0, 0, 2, 1, 1, 1, 5, 1, 7, 3.5, 2, 4, 300),
                List.of(arm("mates", 8, 6)));
        JsonNode j = new ObjectMapper().readTree(RunReport.of(r, false, false, 1.5,
                new RunReport.Rejects(0, Map.of(), "rejects.jsonl")).toJson());
        assertTrue(j.has("token_efficiency") && j.get("token_efficiency").isNull(), j.toString());
        assertTrue(j.has("compute_efficiency") && j.get("compute_efficiency").isNull(), j.toString());
        assertEquals(6.0 * 100 * 1000, j.at("/arms/mates/total_flops").asDouble());
        assertTrue(!j.has("distributed") && !j.path("arms").path("mates").has("final_heldout_loss"), j.toString());
        assertEquals(6.0 * 100 * 1000, j.at("/arms/mates/train_flops").asDouble());
        assertEquals(3.5, j.at("/data/mean_data_point_tokens").asDouble());
        assertTrue(!j.path("arms").path("mates").path("curve").get(0).has("heldout_loss"));
    }
}
