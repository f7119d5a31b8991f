package dev.mates.engine.influence;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class NgramFeaturesTest {
    @Test
    void unitNormSortedUniqueAndCaseInsensitive() {
        NgramFeatures fx = new NgramFeatures();
        NgramFeatures.Sparse a = fx.extract("The proof of the Lemma, the proof!");
        double n2 = 0;
        for (float v : a.val()) n2 += v * v;
        assertEquals(1.0, n2, 1e-5);
        for (int t = 1; t < a.idx().length; t++) assertTrue(a.idx()[t - 1] < a.idx()[t]);
        NgramFeatures.Sparse b = fx.extract("the PROOF of the lemma  the proof");
        assertArrayEquals(a.idx(), b.idx());
        assertArrayEquals(a.val(), b.val(), 1e-6f);
        assertEquals(0, fx.extract("").idx().length);
        assertNotEquals(fx.extract("dog bites man").idx().length, 0);
        assertFalse(java.util.Arrays.equals(fx.extract("dog bites man").val(), fx.extract("man bites dog").val()),
                "bigrams make word order matter");
    }
}
