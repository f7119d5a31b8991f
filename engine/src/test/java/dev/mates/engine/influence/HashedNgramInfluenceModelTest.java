package dev.mates.engine.influence;

import static org.junit.jupiter.api.Assertions.*;

import dev.mates.engine.data.Document;
import dev.mates.engine.util.Correlation;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HashedNgramInfluenceModelTest {
    private static final String[] HELPFUL = {"theorem", "proof", "lemma", "equation"};
    private static final String[] HARMFUL = {"casino", "bonus", "click"};

    /** Documents of random filler words; the label falls with helpful words, rises with harmful ones, plus noise. */
    static List<Document> corpus(int n, long seed, double[] labels) {
        Random rnd = new Random(seed);
        List<Document> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            double y = 0;
            int words = 40 + rnd.nextInt(40);
            for (int w = 0; w < words; w++) {
                double r = rnd.nextDouble();
                String word;
                if (r < 0.03) { word = HELPFUL[rnd.nextInt(HELPFUL.length)]; y -= 1; }
                else if (r < 0.05) { word = HARMFUL[rnd.nextInt(HARMFUL.length)]; y += 1; }
                else word = filler(rnd);
                sb.append(rnd.nextInt(10) == 0 ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word)
                        .append(rnd.nextInt(8) == 0 ? ". " : " ");
            }
            labels[i] = 0.01 * (y + 0.5 * rnd.nextGaussian()) + 3; // raw oracle scale: z-scoring is the model's job
            docs.add(new Document("doc-" + seed + "-" + i, sb.toString()));
        }
        return docs;
    }

    private static String filler(Random rnd) {
        int len = 3 + rnd.nextInt(6);
        char[] c = new char[len];
        for (int i = 0; i < len; i++) c[i] = (char) ('a' + rnd.nextInt(12)); // small alphabet: shared 3-grams
        return new String(c);
    }

    @Test
    void learnsASyntheticSignalAndPicksItsBestEpoch() {
        double[] y = new double[3000];
        List<Document> docs = corpus(y.length, 1, y);
        HashedNgramInfluenceModel m = new HashedNgramInfluenceModel(1);
        FitReport r = m.fit(docs, y, 7);
        System.out.println("ngram fit: " + r);
        assertEquals("ngram", r.backbone());
        assertEquals(2400, r.trainSize());
        assertEquals(300, r.tuneSize());
        assertEquals(300, r.valSize());
        assertTrue(r.bestEpoch() >= 1 && r.bestEpoch() <= r.epochs(), "best epoch " + r.bestEpoch());
        assertTrue(r.valSpearman() > 0.7, "val Spearman " + r.valSpearman());
        assertTrue(r.valPearson() > 0.5, "val Pearson " + r.valPearson());

        // Generalises to fresh documents, and predicts on the z-score scale rather than the raw one.
        double[] yTest = new double[1000];
        List<Document> test = corpus(yTest.length, 2, yTest);
        double[] p = m.predict(test);
        assertTrue(Correlation.spearman(p, yTest) > 0.7, "test Spearman " + Correlation.spearman(p, yTest));
        double mean = java.util.Arrays.stream(p).average().orElseThrow();
        assertEquals(0, mean, 0.3, "predictions are z-scores, raw labels are around 3");
    }

    /**
     * Shuffled labels carry no signal: over several shuffles the test Spearman centres on 0. One shuffle alone can land
     * at ±0.15, because a few frequent helpful/harmful words get random weights of a random sign; the mean over 8 has a
     * standard error of about 0.05, and each stays far below the ~0.8 real labels give.
     */
    @Test
    void shuffledLabelsGiveNoSignal() {
        double[] yTest = new double[1000];
        List<Document> test = corpus(yTest.length, 2, yTest);
        double sum = 0;
        int shuffles = 8;
        for (int s = 0; s < shuffles; s++) {
            double[] y = new double[3000];
            List<Document> docs = corpus(y.length, 1, y);
            Random rnd = new Random(9 + s);
            for (int i = y.length - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                double t = y[i]; y[i] = y[j]; y[j] = t;
            }
            HashedNgramInfluenceModel m = new HashedNgramInfluenceModel(1);
            m.fit(docs, y, 7);
            double sp = Correlation.spearman(m.predict(test), yTest);
            System.out.printf("shuffle %d: test Spearman %.3f%n", s, sp);
            assertTrue(Math.abs(sp) < 0.35, "shuffled-label control Spearman " + sp);
            sum += sp;
        }
        assertEquals(0, sum / shuffles, 0.12, "mean shuffled-label control Spearman " + sum / shuffles);
    }

    @Test
    void bestEpochIsKeptNotTheLast() {
        // Tiny noisy set and many epochs: it overfits, so the best validation epoch is an early one and the
        // reported Spearman must be that epoch's.
        double[] y = new double[200];
        List<Document> docs = corpus(y.length, 3, y);
        HashedNgramInfluenceModel m = new HashedNgramInfluenceModel(40, 0.5, 0, 3);
        FitReport r = m.fit(docs, y, 3);
        assertTrue(r.bestEpoch() < 40, "best epoch " + r.bestEpoch());
        FitData data = FitData.of(docs, y, 3);
        double[] p = m.predict(pick(docs, data.val()));
        assertEquals(r.valSpearman(), Correlation.spearman(p, data.labels(data.val())), 1e-9);
    }

    @Test
    void saveLoadPredictsIdenticallyAndFitIsDeterministic() {
        double[] y = new double[600];
        List<Document> docs = corpus(y.length, 4, y);
        HashedNgramInfluenceModel a = new HashedNgramInfluenceModel(5);
        FitReport ra = a.fit(docs, y, 11);
        HashedNgramInfluenceModel b = new HashedNgramInfluenceModel(5);
        FitReport rb = b.fit(docs, y, 11);
        assertEquals(ra.valSpearman(), rb.valSpearman());
        assertArrayEquals(a.predict(docs), b.predict(docs));
        assertArrayEquals(a.save(), b.save());
        HashedNgramInfluenceModel c = new HashedNgramInfluenceModel(5);
        c.fit(docs, y, 12);
        assertFalse(java.util.Arrays.equals(a.predict(docs), c.predict(docs)), "another split seed fits another model");
        assertArrayEquals(a.predict(docs), HashedNgramInfluenceModel.load(a.save()).predict(docs));
        assertThrows(IllegalArgumentException.class, () -> HashedNgramInfluenceModel.load(new byte[] {1, 2, 3, 4}));
    }

    @Test
    void rejectsBadInput() {
        HashedNgramInfluenceModel m = new HashedNgramInfluenceModel(1);
        List<Document> docs = List.of(new Document("a", "x"), new Document("b", "y"), new Document("c", "z"),
                new Document("d", "w"));
        assertThrows(IllegalArgumentException.class, () -> m.fit(docs, new double[3], 1));
        assertThrows(IllegalArgumentException.class, () -> m.fit(docs, new double[] {1, 2, Double.NaN, 3}, 1));
    }

    static List<Document> pick(List<Document> docs, int[] idx) {
        List<Document> out = new ArrayList<>();
        for (int i : idx) out.add(docs.get(i));
        return out;
    }
}
