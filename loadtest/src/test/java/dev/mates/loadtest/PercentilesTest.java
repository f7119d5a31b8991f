package dev.mates.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class PercentilesTest {
    @Test
    void nearestRankByHand() {
        long[] twenty = LongStream.rangeClosed(1, 20).toArray();
        assertEquals(10, Percentiles.nearestRank(twenty, 50)); // rank ⌈10⌉
        assertEquals(19, Percentiles.nearestRank(twenty, 95)); // rank ⌈19⌉, not 20
        assertEquals(20, Percentiles.nearestRank(twenty, 99)); // rank ⌈19.8⌉
        assertEquals(20, Percentiles.nearestRank(twenty, 100));
        assertEquals(1, Percentiles.nearestRank(twenty, 1)); // rank ⌈0.2⌉
        long[] four = {1, 2, 3, 4};
        assertEquals(2, Percentiles.nearestRank(four, 50));
        assertEquals(3, Percentiles.nearestRank(four, 51));
        assertEquals(4, Percentiles.nearestRank(four, 99));
        long[] hundred = LongStream.rangeClosed(1, 100).toArray();
        assertEquals(95, Percentiles.nearestRank(hundred, 95));
        assertEquals(99, Percentiles.nearestRank(hundred, 99));
        assertEquals(7, Percentiles.nearestRank(new long[] {7}, 50));
        assertThrows(IllegalArgumentException.class, () -> Percentiles.nearestRank(four, 0));
        assertThrows(IllegalArgumentException.class, () -> Percentiles.nearestRank(new long[0], 50));
    }

    @Test
    void summaryScalesAndLeavesTheInputAlone() {
        long[] ns = {3_000_000, 1_000_000, 2_000_000, 10_000_000};
        Percentiles.Summary s = Percentiles.summary(ns, 1e-6);
        assertEquals(new Percentiles.Summary(4, 2, 10, 10, 10, 4), s);
        assertEquals(3_000_000, ns[0], "not sorted in place");
        assertEquals(Percentiles.Summary.EMPTY, Percentiles.summary(new long[0], 1));
    }
}
