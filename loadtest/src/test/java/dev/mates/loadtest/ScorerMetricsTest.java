package dev.mates.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ScorerMetricsTest {
    static final String PAGE = """
            # HELP mates_scorer_online_batch_size Documents per model batch of the online Score RPC
            # TYPE mates_scorer_online_batch_size summary
            mates_scorer_online_batch_size_count 40.0
            mates_scorer_online_batch_size_sum 1000.0
            # TYPE mates_scorer_online_batch_size_max gauge
            mates_scorer_online_batch_size_max{instance="a"} 64.0
            mates_scorer_online_documents_total 1000.0
            """;

    @Test
    void readsTheSummaryAndTheDeltaBetweenTwoReadings() {
        ScorerMetrics.Reading before = ScorerMetrics.parse(PAGE).orElseThrow();
        assertEquals(new ScorerMetrics.Reading(40, 1000, 64), before);
        ScorerMetrics.Reading after = new ScorerMetrics.Reading(50, 1600, 64);
        assertEquals(new ScorerMetrics.Delta(10, 600, 60, 64), ScorerMetrics.Delta.between(before, after));
        assertEquals(new ScorerMetrics.Delta(0, 0, 0, 64), ScorerMetrics.Delta.between(before, before));
        assertTrue(ScorerMetrics.parse("# nothing here\nother_metric 1\n").isEmpty());
    }
}
