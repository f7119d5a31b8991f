package dev.mates.engine.train;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GptTrainerTest {
    static final GptConfig CFG = new GptConfig("test", 300, 16, 32, 2, 4);

    static AdamWConfig opt() {
        return new AdamWConfig(3e-3, 0.9, 0.95, 1e-8, 0.1, 1.0, 5);
    }

    /** A learnable stream: each sequence counts up from a random start (mod 300). */
    static TokenBatch batch(long seed, int rows) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] seq = new int[rows][CFG.context() + 1];
        for (int i = 0; i < rows; i++) {
            int s = r.nextInt(300);
            for (int j = 0; j <= CFG.context(); j++) seq[i][j] = (s + j) % 300;
        }
        return TokenBatch.ofSequences(seq);
    }

    @Test
    void lossFallsOnALearnableStream() {
        try (GptTrainer t = new GptTrainer(CFG, opt(), 1)) {
            TokenBatch eval = batch(999, 8);
            double before = t.evaluate(eval, 4);
            assertEquals(Math.log(300), before, 0.5, "an untrained model is near uniform");
            for (int i = 0; i < 60; i++) t.trainStep(batch(i, 8));
            double after = t.evaluate(eval, 4);
            assertTrue(after < before - 1.0, "loss should fall: " + before + " -> " + after);
            assertEquals(60, t.step());
        }
    }

    @Test
    void evaluateMatchesTheTrainingLossOnTheSameBatch() {
        try (GptTrainer t = new GptTrainer(CFG, opt(), 2)) {
            TokenBatch b = batch(5, 6);
            double eval = t.evaluate(b, 4); // chunked 4 + 2 must give the same mean
            double train = t.trainStep(b);
            assertEquals(train, eval, 1e-4);
        }
    }

    @Test
    void resumeFromCheckpointGivesABitIdenticalNextStep() {
        Checkpoint ck;
        Map<String, float[]> expected;
        try (GptTrainer a = new GptTrainer(CFG, opt(), 3)) {
            for (int i = 0; i < 7; i++) a.trainStep(batch(i, 4));
            ck = Checkpoint.fromBytes(ck0(a).toBytes());
            a.trainStep(batch(100, 4));
            expected = a.checkpoint().weights();
        }
        try (GptTrainer b = new GptTrainer(CFG, opt(), 42)) {
            b.restore(ck);
            assertEquals(7, b.step());
            b.trainStep(batch(100, 4));
            Map<String, float[]> got = b.checkpoint().weights();
            for (String k : expected.keySet()) assertArrayEquals(expected.get(k), got.get(k), 0f, k);
        }
    }

    private static Checkpoint ck0(GptTrainer t) {
        return t.checkpoint();
    }

    @Test
    void snapshotRestoreLeavesTheStateExactlyAsItWas() {
        try (GptTrainer t = new GptTrainer(CFG, opt(), 4)) {
            for (int i = 0; i < 3; i++) t.trainStep(batch(i, 4));
            Checkpoint before = t.checkpoint();
            t.snapshot();
            for (int i = 0; i < 3; i++) t.trainStep(batch(50 + i, 4));
            t.restoreSnapshot();
            Checkpoint after = t.checkpoint();
            assertEquals(before.step(), after.step());
            for (String k : before.weights().keySet()) {
                assertArrayEquals(before.weights().get(k), after.weights().get(k), 0f, k);
                assertArrayEquals(before.adamM().get(k), after.adamM().get(k), 0f, k);
                assertArrayEquals(before.adamV().get(k), after.adamV().get(k), 0f, k);
            }
        }
    }

    @Test
    void proposedUpdateEqualsTheStepActuallyTaken() {
        try (GptTrainer t = new GptTrainer(CFG, opt(), 5)) {
            t.trainStep(batch(1, 4));
            TokenBatch x = batch(2, 1);
            Map<String, float[]> delta = t.proposedUpdate(x);
            Map<String, float[]> w0 = t.checkpoint().weights();
            t.trainStep(x);
            Map<String, float[]> w1 = t.checkpoint().weights();
            for (String k : w0.keySet()) {
                float[] d = delta.get(k);
                for (int i = 0; i < d.length; i++) assertEquals(w1.get(k)[i] - w0.get(k)[i], d[i], 2e-6, k);
            }
        }
    }

    private static double dot(Map<String, float[]> a, Map<String, float[]> b) {
        double s = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k);
            float[] y = b.get(k);
            for (int i = 0; i < x.length; i++) s += (double) x[i] * y[i];
        }
        return s;
    }

    /** The native first-order influence is ∇L_ref · (the update AdamW would really take), computed on the heap here. */
    @Test
    void adamWFirstOrderEqualsTheHeapDotProductOfReferenceGradientAndProposedUpdate() {
        try (GptTrainer t = new GptTrainer(CFG, opt(), 7)) {
            for (int i = 0; i < 8; i++) t.trainStep(batch(i, 4));
            TokenBatch ref = batch(500, 5);
            Map<String, float[]> gRef = t.gradient(ref, 2);
            try (FirstOrderInfluence f = t.firstOrderInfluence(ref, 2, false)) {
                for (long probe = 20; probe < 24; probe++) {
                    TokenBatch x = batch(probe, 1);
                    double heap = dot(gRef, t.proposedUpdate(x));
                    assertEquals(heap, f.adamW(x), 1e-6 + 1e-4 * Math.abs(heap), "probe " + probe);
                }
            }
        }
    }

    /**
     * Central differences of each row's loss along u against autograd's directional derivative u · ∇L_row, row by
     * row: the step h must make rounding and truncation negligible.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void centralDifferencesMatchAutogradDirectionalDerivatives(boolean atDrift) {
        try (GptTrainer t = new GptTrainer(CFG, opt(), 8)) {
            for (int i = 0; i < 12; i++) t.trainStep(batch(i, 4));
            TokenBatch ref = batch(600, 6);
            TokenBatch rows = batch(700, 10);
            Map<String, float[]> before = t.checkpoint().weights();
            try (FirstOrderInfluence f = t.firstOrderInfluence(ref, 3, atDrift)) {
                double[] fd = f.directionalDerivatives(rows, 4);
                Map<String, float[]> u = f.direction();
                double[] autograd = new double[rows.size()];
                for (int r = 0; r < rows.size(); r++) autograd[r] = dot(u, t.gradient(rows.slice(r, r + 1), 1));
                double scale = java.util.Arrays.stream(autograd).map(Math::abs).max().orElse(0);
                assertTrue(scale > 0, "directional derivatives must not all vanish");
                for (int r = 0; r < rows.size(); r++) {
                    assertEquals(autograd[r], fd[r], 1e-2 * scale, "row " + r + ": autograd " + autograd[r] + ", central differences " + fd[r]);
                }
                assertTrue(dev.mates.engine.util.Correlation.spearman(autograd, fd) > 0.99);
                // and the linearised influence is the affine map of them the class documents: a − b·d, b > 0
                double[] lin = f.linearised(rows, 4);
                assertTrue(dev.mates.engine.util.Correlation.spearman(lin, fd) < -0.99, "I = a − b·(u·g): decreasing in u·g");
            }
            Map<String, float[]> after = t.checkpoint().weights();
            for (String k : before.keySet()) assertArrayEquals(before.get(k), after.get(k), 0f, k + " must be restored bit for bit");
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        try (GptTrainer t = new GptTrainer(CFG, opt(), 6)) {
            TokenBatch b = batch(9, 3);
            Map<String, float[]> g = t.gradient(b, 2);
            Checkpoint c = t.checkpoint();
            String name = "h0.mlp.fc.w";
            float[] w = c.weights().get(name);
            for (int idx : new int[] {0, 77, 500}) {
                double eps = 1e-2;
                double[] l = new double[2];
                for (int s = 0; s < 2; s++) {
                    float[] w2 = w.clone();
                    w2[idx] += (float) (s == 0 ? eps : -eps);
                    Map<String, float[]> ws = new java.util.LinkedHashMap<>(c.weights());
                    ws.put(name, w2);
                    t.restore(new Checkpoint(c.config(), c.step(), 0, ws, c.adamM(), c.adamV()));
                    l[s] = t.evaluate(b, 3);
                }
                double fd = (l[0] - l[1]) / (2 * eps);
                assertEquals(fd, g.get(name)[idx], 2e-3 + 0.05 * Math.abs(fd), "d loss / d " + name + "[" + idx + "]");
            }
        }
    }
}
