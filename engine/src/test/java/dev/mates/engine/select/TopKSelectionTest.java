package dev.mates.engine.select;

import static org.junit.jupiter.api.Assertions.*;

import dev.mates.engine.data.Hashing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TopKSelectionTest {
    private static final int N = 10_000;

    private static double[] scores(long seed) {
        Random rnd = new Random(seed);
        double[] s = new double[N];
        for (int i = 0; i < N; i++) s[i] = rnd.nextGaussian();
        // Exact ties must still give a shard-invariant total order.
        for (int i = 0; i < 200; i++) s[i] = s[i + 200];
        return s;
    }

    private static long key(int i) {
        return Hashing.key64("doc-" + i);
    }

    private static int[] single(Selector sel, double[] s, int k, long seed) {
        Selection all = sel.begin(k, seed, 3);
        for (int i = 0; i < s.length; i++) all.offer(key(i), i, s[i]);
        return all.result();
    }

    @Test
    void shardedSelectionEqualsSingleSelection() {
        double[] s = scores(1);
        for (Selector sel : List.of(new GumbelTopKSelector(0.7), new TopKSelector(), new RandomSelector())) {
            int k = 500;
            int[] expected = single(sel, s, k, 42);
            assertEquals(k, expected.length);
            // Round-robin shards, offered in reverse, merged in a scrambled order.
            List<Selection> shards = new ArrayList<>();
            for (int j = 0; j < 7; j++) shards.add(sel.begin(k, 42, 3));
            for (int i = N - 1; i >= 0; i--) shards.get(i % 7).offer(key(i), i, s[i]);
            Selection merged = sel.begin(k, 42, 3);
            for (int j : new int[] {4, 0, 6, 2, 1, 5, 3}) merged.merge(shards.get(j));
            assertArrayEquals(expected, merged.result(), sel.name() + " round-robin");
            // Contiguous shards merged as a tree.
            Selection left = sel.begin(k, 42, 3), right = sel.begin(k, 42, 3);
            int cut = N / 7 * 3;
            for (int i = 0; i < cut; i++) left.offer(key(i), i, s[i]);
            for (int i = cut; i < N; i++) right.offer(key(i), i, s[i]);
            right.merge(left);
            assertArrayEquals(expected, right.result(), sel.name() + " contiguous");
        }
    }

    @Test
    void resultIsOrderedByDecreasingKey() {
        double[] s = scores(2);
        int[] top = single(new TopKSelector(), s, 300, 0);
        for (int r = 1; r < top.length; r++) assertTrue(s[top[r - 1]] <= s[top[r]]);
        int[] gumbel = single(new GumbelTopKSelector(1.0), s, 300, 9);
        for (int r = 1; r < gumbel.length; r++) {
            double prev = -s[gumbel[r - 1]] + CounterRng.gumbel(9, 3, key(gumbel[r - 1]));
            double cur = -s[gumbel[r]] + CounterRng.gumbel(9, 3, key(gumbel[r]));
            assertTrue(prev >= cur);
        }
    }

    @Test
    void deterministicUnderSeedAndDifferentAcrossSeeds() {
        double[] s = scores(3);
        Selector sel = new GumbelTopKSelector(1.0);
        assertArrayEquals(single(sel, s, 1000, 5), single(sel, s, 1000, 5));
        int[] a = single(sel, s, 1000, 5), b = single(sel, s, 1000, 6);
        assertTrue(GumbelTopKSelectorTest.overlap(a, b) < 900, "seeds 5 and 6 overlap " + GumbelTopKSelectorTest.overlap(a, b));
        Selection other = sel.begin(1000, 5, 4);
        for (int i = 0; i < N; i++) other.offer(key(i), i, s[i]);
        assertFalse(Arrays.equals(a, other.result()), "another stage must draw other noise");
    }

    @Test
    void memoryStaysAtKAfterAMillionOffers() {
        int k = 1000;
        TopKSelection sel = (TopKSelection) new GumbelTopKSelector(1.0).begin(k, 1, 0);
        for (int i = 0; i < 1_000_000; i++) sel.offer(Hashing.mix64(i), i, (i % 97) * 0.01);
        assertEquals(k, sel.capacity());
        assertEquals(k, sel.size());
        assertEquals(k, sel.result().length);
    }

    @Test
    void edgeCasesOfK() {
        Selection none = new GumbelTopKSelector(1.0).begin(0, 1, 0);
        for (int i = 0; i < 10; i++) none.offer(i, i, i);
        assertEquals(0, none.result().length);
        Selection all = new TopKSelector().begin(50, 1, 0);
        for (int i = 0; i < 10; i++) all.offer(i, i, 10 - i);
        assertArrayEquals(new int[] {9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, all.result());
        assertThrows(IllegalArgumentException.class, () -> new TopKSelector().begin(-1, 1, 0));
        Selection nan = new TopKSelector().begin(1, 1, 0);
        assertThrows(IllegalArgumentException.class, () -> nan.offer(1, 0, Double.NaN));
    }

    @Test
    void mergeRejectsMismatchedAccumulators() {
        Selection a = new GumbelTopKSelector(1.0).begin(10, 1, 0);
        assertThrows(IllegalArgumentException.class, () -> a.merge(new GumbelTopKSelector(1.0).begin(10, 2, 0)));
        assertThrows(IllegalArgumentException.class, () -> a.merge(new GumbelTopKSelector(0.5).begin(10, 1, 0)));
        assertThrows(IllegalArgumentException.class, () -> a.merge(new RandomSelector().begin(10, 1, 0)));
    }

    @Test
    void uniformIsInsideTheOpenIntervalAndStable() {
        double u = CounterRng.uniform(1, 2, 3);
        assertEquals(u, CounterRng.uniform(1, 2, 3));
        assertNotEquals(u, CounterRng.uniform(3, 2, 1));
        double sum = 0;
        for (long d = 0; d < 100_000; d++) {
            double v = CounterRng.uniform(0, 0, d);
            assertTrue(v > 0 && v < 1);
            sum += v;
        }
        assertEquals(0.5, sum / 100_000, 0.005);
        assertTrue(Double.isFinite(CounterRng.gumbel(0, 0, 0)));
    }

}
