package dev.mates.engine.select;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GumbelTopKSelectorTest {
    private static final double[] SCORES = {-1.2, -0.5, 0.0, 0.3, 0.9, 1.6};
    private static final double TAU = 0.8;
    private static final int TRIALS = 40_000;
    // χ² critical value for 14 degrees of freedom at p = 0.001.
    private static final double CHI2_14_P001 = 36.12;

    /** Exact Plackett–Luce probability of each unordered pair for k = 2: sum of both draw orders. */
    static double[][] plPairProbabilities(double[] scores, double tau) {
        int n = scores.length;
        double[] w = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) total += (w[i] = Math.exp(-scores[i] / tau));
        double[][] p = new double[n][n];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                if (a == b) continue;
                double ordered = w[a] / total * w[b] / (total - w[a]);
                p[Math.min(a, b)][Math.max(a, b)] += ordered;
            }
        }
        return p;
    }

    /** Counts of each selected unordered pair over independent trials (the stage varies the noise). */
    static long[][] pairCounts(Selector selector, double[] scores, long seed, int trials) {
        int n = scores.length;
        long[][] counts = new long[n][n];
        for (int t = 0; t < trials; t++) {
            Selection s = selector.begin(2, seed, t);
            for (int i = 0; i < n; i++) s.offer(1000L + i, i, scores[i]);
            int[] r = s.result();
            assertEquals(2, r.length);
            counts[Math.min(r[0], r[1])][Math.max(r[0], r[1])]++;
        }
        return counts;
    }

    static double chiSquare(long[][] counts, double[][] p, int trials) {
        double chi2 = 0;
        for (int a = 0; a < p.length; a++) {
            for (int b = a + 1; b < p.length; b++) {
                double e = p[a][b] * trials;
                chi2 += (counts[a][b] - e) * (counts[a][b] - e) / e;
            }
        }
        return chi2;
    }

    @Test
    void inclusionFrequenciesMatchPlackettLuce() {
        double[][] p = plPairProbabilities(SCORES, TAU);
        long[][] counts = pairCounts(new GumbelTopKSelector(TAU), SCORES, 7, TRIALS);
        for (int i = 0; i < SCORES.length; i++) {
            double pi = 0;
            long ci = 0;
            for (int j = 0; j < SCORES.length; j++) {
                pi += p[Math.min(i, j)][Math.max(i, j)];
                ci += counts[Math.min(i, j)][Math.max(i, j)];
            }
            double f = (double) ci / TRIALS;
            double bound = 4.5 * Math.sqrt(pi * (1 - pi) / TRIALS);
            assertTrue(Math.abs(f - pi) <= bound, "item " + i + ": frequency " + f + " vs exact " + pi + " ± " + bound);
        }
        double chi2 = chiSquare(counts, p, TRIALS);
        assertTrue(chi2 < CHI2_14_P001, "joint pair distribution χ²=" + chi2);
        // Lower score = more helpful = more often selected.
        assertTrue(counts[0][1] > counts[4][5]);
    }

    @Test
    void referenceBugOfNoiseOnBottomKIsDistinguishable() {
        // Reference code: bottom-k of score/τ + G == top-k of −score/τ − G, a negated Gumbel.
        Selector buggy = new Selector() {
            @Override
            public String name() {
                return "reference-bottom-k";
            }

            @Override
            public Selection begin(int k, long seed, int stage) {
                Selection inner = new TopKSelector().begin(k, seed, stage);
                return new Selection() {
                    @Override
                    public void offer(long docKey, int index, double score) {
                        inner.offer(docKey, index, score / TAU + CounterRng.gumbel(seed, stage, docKey));
                    }

                    @Override
                    public void merge(Selection other) {
                        throw new UnsupportedOperationException();
                    }

                    @Override
                    public int[] result() {
                        return inner.result();
                    }
                };
            }
        };
        double[][] p = plPairProbabilities(SCORES, TAU);
        double chi2 = chiSquare(pairCounts(buggy, SCORES, 7, TRIALS), p, TRIALS);
        assertTrue(chi2 > 10 * CHI2_14_P001, "the bottom-k + G variant should not look Plackett–Luce, χ²=" + chi2);
    }

    @Test
    void tauMustBePositive() {
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GumbelTopKSelector(bad));
            assertTrue(e.getMessage().contains("selection.tau"), e.getMessage());
        }
    }

    @Test
    void smallTauApproachesTopK() {
        java.util.Random rnd = new java.util.Random(3);
        int n = 2000, k = 100;
        double[] scores = new double[n];
        for (int i = 0; i < n; i++) scores[i] = i * 1e-3 + rnd.nextDouble() * 1e-4; // distinct, ≥ 0.9e-3 apart
        shuffle(scores, rnd);
        int[] gumbel = select(new GumbelTopKSelector(1e-6), scores, k, 11, 0);
        int[] topk = select(new TopKSelector(), scores, k, 11, 0);
        assertArrayEquals(topk, gumbel);
        double maxSelected = Arrays.stream(topk).mapToDouble(i -> scores[i]).max().orElseThrow();
        assertEquals(k, Arrays.stream(scores).filter(s -> s <= maxSelected).count());
        // With a large τ the same selector is far from top-k.
        int[] hot = select(new GumbelTopKSelector(100), scores, k, 11, 0);
        assertTrue(overlap(hot, topk) < k / 2, "τ=100 overlap " + overlap(hot, topk));
    }

    @Test
    void randomIgnoresScores() {
        // Scores that would make a score-based selector pick items 0..4 every time.
        double[] scores = {-50, -40, -30, -20, -10, 10, 20, 30, 40, 50};
        int k = 5, trials = 20_000;
        long[] counts = new long[scores.length];
        Selector random = new RandomSelector();
        for (int t = 0; t < trials; t++) {
            for (int i : select(random, scores, k, 5, t)) counts[i]++;
        }
        double p = 0.5;
        double bound = 4.5 * Math.sqrt(p * (1 - p) / trials);
        for (int i = 0; i < scores.length; i++) {
            double f = (double) counts[i] / trials;
            assertTrue(Math.abs(f - p) <= bound, "item " + i + " frequency " + f);
        }
        // NaN scores do not matter to random selection.
        Selection s = random.begin(1, 5, 0);
        s.offer(1, 0, Double.NaN);
        assertArrayEquals(new int[] {0}, s.result());
    }

    static int[] select(Selector selector, double[] scores, int k, long seed, int stage) {
        Selection s = selector.begin(k, seed, stage);
        for (int i = 0; i < scores.length; i++) s.offer(dev.mates.engine.data.Hashing.mix64(i), i, scores[i]);
        return s.result();
    }

    static int overlap(int[] a, int[] b) {
        java.util.Set<Integer> set = new java.util.HashSet<>();
        for (int x : a) set.add(x);
        int c = 0;
        for (int x : b) if (set.contains(x)) c++;
        return c;
    }

    private static void shuffle(double[] x, java.util.Random rnd) {
        for (int i = x.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            double t = x[i]; x[i] = x[j]; x[j] = t;
        }
    }
}
