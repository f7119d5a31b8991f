package dev.mates.engine.oracle;

import static org.junit.jupiter.api.Assertions.*;

import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.train.AdamWConfig;
import dev.mates.engine.train.Checkpoint;
import dev.mates.engine.train.GptConfig;
import dev.mates.engine.train.GptTrainer;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.util.Correlation;
import dev.mates.engine.util.Listener;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OracleTest {
    /** Raw bytes as ids: enough for tests, independent of the BPE trainer. */
    static final Tokenizer BYTES = new Tokenizer() {
        public int[] encode(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            int[] ids = new int[b.length];
            for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
            return ids;
        }

        public String decode(int[] ids) {
            byte[] b = new byte[ids.length];
            for (int i = 0; i < ids.length; i++) b[i] = (byte) ids[i];
            return new String(b, StandardCharsets.UTF_8);
        }

        public int vocabSize() {
            return 257;
        }

        public int eosId() {
            return 256;
        }

        public byte[] toBytes() {
            throw new UnsupportedOperationException("test tokenizer is not serialized");
        }
    };

    static final GptConfig CFG = new GptConfig("test", 257, 32, 32, 2, 4);
    static final AdamWConfig OPT = new AdamWConfig(1e-3, 0.9, 0.95, 1e-8, 0.1, 1.0, 1);
    static Checkpoint warm;
    static TokenBatch reference;
    static List<Document> probes = new ArrayList<>();

    @BeforeAll
    static void warmUp() {
        List<Document> ref = new ArrayList<>();
        String[] en = {"the committee agreed on the report", "we support the proposal of the commission",
            "the parliament voted on the directive", "member states must apply the rules"};
        for (int i = 0; i < en.length; i++) ref.add(new Document("r" + i, en[i]));
        reference = ReferenceSet.batch(ref, BYTES, CFG.context());
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 24; i++) {
            String text = i % 2 == 0 ? en[r.nextInt(en.length)] + " and " + en[r.nextInt(en.length)]
                    : randomLetters(r, 20 + r.nextInt(10));
            probes.add(new Document("p" + i, text));
        }
        try (GptTrainer t = new GptTrainer(CFG, OPT, 11)) {
            for (int s = 0; s < 20; s++) {
                t.trainStep(ReferenceSet.batch(List.of(probes.get(s % probes.size()), probes.get((s + 5) % probes.size())),
                        BYTES, CFG.context()));
            }
            warm = t.checkpoint();
        }
    }

    static String randomLetters(SplittableRandom r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append((char) ('a' + r.nextInt(26)));
        return sb.toString();
    }

    @Test
    void aProbeLeavesTheStateExactlyAsItFoundIt() {
        try (GptTrainer t = new GptTrainer(CFG, OPT, 1)) {
            t.restore(warm);
            new ExactOracle(t, reference, BYTES, 4, Listener.QUIET).probe(probes.subList(0, 5));
            try (FirstOrderOracle f = new FirstOrderOracle(t, reference, BYTES, 4, Listener.QUIET)) {
                f.probe(probes.subList(0, 5));
            }
            try (DirectionalOracle d = new DirectionalOracle(t, reference, BYTES, 4, Listener.QUIET)) {
                d.probe(probes.subList(0, 5));
            }
            Checkpoint after = t.checkpoint();
            assertEquals(warm.step(), after.step());
            for (String k : warm.weights().keySet()) {
                assertArrayEquals(warm.weights().get(k), after.weights().get(k), 0f, k);
                assertArrayEquals(warm.adamM().get(k), after.adamM().get(k), 0f, k);
                assertArrayEquals(warm.adamV().get(k), after.adamV().get(k), 0f, k);
            }
        }
    }

    /** A prober serves stage after stage: restoring the next checkpoint after first-order probes must work. */
    @Test
    void restoreAfterProbesOfBothKindsGivesTheCheckpointBack() {
        try (GptTrainer t = new GptTrainer(CFG, OPT, 1)) {
            t.restore(warm);
            double[] first = new ExactOracle(t, reference, BYTES, 4, Listener.QUIET).probe(probes.subList(0, 3));
            try (FirstOrderOracle f = new FirstOrderOracle(t, reference, BYTES, 4, Listener.QUIET)) {
                f.probe(probes.subList(0, 3));
            }
            t.trainStep(ReferenceSet.single(probes.get(7), BYTES, CFG.context()));
            t.restore(warm);
            Checkpoint after = t.checkpoint();
            for (String k : warm.weights().keySet()) {
                assertArrayEquals(warm.weights().get(k), after.weights().get(k), 0f, k);
                assertArrayEquals(warm.adamV().get(k), after.adamV().get(k), 0f, k);
            }
            assertArrayEquals(first, new ExactOracle(t, reference, BYTES, 4, Listener.QUIET).probe(probes.subList(0, 3)), 0.0);
        }
    }

    /** The trainer service restores and probes on run threads other than the one that built the model. */
    @Test
    void restoreAndProbeWorkOnAFreshThread() throws Exception {
        try (GptTrainer t = new GptTrainer(CFG, OPT, 1)) {
            t.trainStep(ReferenceSet.single(probes.get(3), BYTES, CFG.context()));
            double[][] got = new double[1][];
            Throwable[] failure = new Throwable[1];
            Thread other = new Thread(() -> {
                try {
                    t.restore(warm);
                    got[0] = new ExactOracle(t, reference, BYTES, 4, Listener.QUIET).probe(probes.subList(0, 2));
                    t.restore(warm);
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            other.start();
            other.join();
            if (failure[0] != null) throw new AssertionError("restore on a fresh thread failed", failure[0]);
            assertEquals(2, got[0].length);
            assertArrayEquals(warm.weights().values().iterator().next(), t.checkpoint().weights().values().iterator().next(), 0f);
        }
    }

    @Test
    void exactOracleEqualsABruteForceRecomputation() {
        double[] fast;
        try (GptTrainer t = new GptTrainer(CFG, OPT, 1)) {
            t.restore(warm);
            fast = new ExactOracle(t, reference, BYTES, 3, Listener.QUIET).probe(probes.subList(0, 4));
        }
        for (int i = 0; i < 4; i++) {
            // Brute force: a fresh model from the checkpoint for every probe, as the reference code does.
            try (GptTrainer t = new GptTrainer(CFG, OPT, 99)) {
                t.restore(warm);
                double before = t.evaluate(reference, 4);
                t.trainStep(ReferenceSet.single(probes.get(i), BYTES, CFG.context()));
                double brute = t.evaluate(reference, 4) - before;
                assertEquals(brute, fast[i], 1e-6, "probe " + i);
            }
        }
        assertTrue(java.util.Arrays.stream(fast).anyMatch(x -> x != 0), "influences must not all be zero");
    }

    @Test
    void firstOrderAgreesWithExactByRank() {
        double[] exact;
        double[] approx;
        try (GptTrainer t = new GptTrainer(CFG, OPT, 1)) {
            t.restore(warm);
            exact = new ExactOracle(t, reference, BYTES, 4, Listener.QUIET).probe(probes);
            try (FirstOrderOracle f = new FirstOrderOracle(t, reference, BYTES, 4, Listener.QUIET)) {
                approx = f.probe(probes);
            }
        }
        double rho = Correlation.spearman(exact, approx);
        System.out.printf("first-order vs exact Spearman on %d probes: %.3f%n", probes.size(), rho);
        assertTrue(rho > 0.6, "first-order oracle should rank probes like the exact one, Spearman " + rho);
    }

    @Test
    void directionalAgreesWithExactByRankAndIsOrderIndependent() {
        double[] exact;
        double[] approx;
        double[] reversed;
        try (GptTrainer t = new GptTrainer(CFG, OPT, 1)) {
            t.restore(warm);
            exact = new ExactOracle(t, reference, BYTES, 4, Listener.QUIET).probe(probes);
            try (DirectionalOracle d = new DirectionalOracle(t, reference, BYTES, 4, Listener.QUIET)) {
                approx = d.probe(probes);
                List<Document> rev = new ArrayList<>(probes);
                java.util.Collections.reverse(rev);
                reversed = d.probe(rev);
            }
        }
        for (int i = 0; i < probes.size(); i++) {
            // batching and length-sorting must not change a probe's value beyond float rounding
            assertEquals(approx[i], reversed[probes.size() - 1 - i], 1e-6 + 1e-3 * Math.abs(approx[i]), "probe " + i);
        }
        double rho = Correlation.spearman(exact, approx);
        System.out.printf("directional vs exact Spearman on %d probes: %.3f%n", probes.size(), rho);
        assertTrue(rho > 0.5, "directional oracle should rank probes like the exact one, Spearman " + rho);
    }

    @Test
    void targetedReferenceCountsOnlyTheTargetTokens() {
        Document lambada = new Document("l", "ignored", java.util.Map.of("context", "the cat sat on the", "target", " mat"));
        TokenBatch b = ReferenceSet.batch(List.of(lambada), BYTES, CFG.context());
        assertEquals(4, b.countedTokens());
        int firstCounted = 0;
        while (b.mask()[0][firstCounted] == 0) firstCounted++;
        assertEquals(' ', b.targets()[0][firstCounted]);
        assertEquals('m', b.targets()[0][firstCounted + 1]);
    }
}
