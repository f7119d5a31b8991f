package dev.mates.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The FLOP accounting on hand-computed cases (N = 1000 parameters). */
class FlopsTest {
    @Test
    void trainingIsSixNPerToken() {
        assertEquals(6.0 * 1000 * 16 * 128, Flops.train(1000, 16 * 128));
    }

    @Test
    void exactProbesTrainOnEachProbeAndEvaluateTheReferenceOncePlusOncePerProbe() {
        // 3 probes of 10 tokens, a reference of 50 tokens: 6·1000·30 + 2·1000·50·(3 + 1).
        assertEquals(180_000 + 400_000, Flops.exactProbes(1000, 30, 3, 50));
    }

    @Test
    void firstOrderProbesTakeTheExpansionAndABackwardPerProbe() {
        // reference loss twice (2·2·1000·50), reference gradient (6·1000·50), then 6·1000 per probe token.
        assertEquals(200_000 + 300_000 + 180_000, Flops.firstOrderProbes(1000, 30, 50));
    }

    @Test
    void directionalProbesTakeTheExpansionAndTwoForwardPassesPerProbeToken() {
        assertEquals(200_000 + 300_000 + 120_000, Flops.directionalProbes(1000, 30, 50));
    }
}
