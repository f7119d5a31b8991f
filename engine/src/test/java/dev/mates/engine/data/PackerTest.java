package dev.mates.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PackerTest {
    private static final int EOS = 256;

    @Test
    void placesEosAfterEachDocumentAndOverlapsByOneToken() {
        Packer p = new Packer(4, EOS);
        p.add(new int[] {1, 2, 3});
        assertEquals(4, p.pending());
        assertFalse(p.ready());
        p.add(new int[] {4, 5});
        assertEquals(7, p.pending());
        assertTrue(p.ready());
        assertArrayEquals(new int[] {1, 2, 3, EOS, 4}, p.next());
        assertEquals(3, p.pending(), "the last token stays as the first of the next sequence");
        assertFalse(p.ready());
        p.add(new int[] {6, 7});
        assertArrayEquals(new int[] {4, 5, EOS, 6, 7}, p.next());
        assertThrows(IllegalStateException.class, p::next);
    }

    @Test
    void everyTransitionOfTheStreamIsATargetExactlyOnce() {
        Random rnd = new Random(7);
        int seqLen = 16;
        Packer p = new Packer(seqLen, EOS);
        List<Integer> stream = new ArrayList<>();
        List<int[]> seqs = new ArrayList<>();
        for (int d = 0; d < 200; d++) {
            int[] doc = rnd.ints(rnd.nextInt(40), 0, 256).toArray();
            for (int t : doc) stream.add(t);
            stream.add(EOS);
            p.add(doc);
            while (p.ready()) seqs.add(p.next());
        }
        for (int[] s : seqs) assertEquals(seqLen + 1, s.length);
        for (int i = 0; i < seqs.size(); i++) {
            for (int j = 0; j <= seqLen; j++) {
                assertEquals(stream.get(i * seqLen + j), seqs.get(i)[j], "seq " + i + " pos " + j);
            }
        }
        assertEquals(stream.size() - seqs.size() * seqLen, p.pending());
    }

    @Test
    void documentsLongerThanASequenceSpanSeveral() {
        Packer p = new Packer(3, EOS);
        p.add(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertArrayEquals(new int[] {1, 2, 3, 4}, p.next());
        assertArrayEquals(new int[] {4, 5, 6, 7}, p.next());
        assertArrayEquals(new int[] {7, 8, 9, EOS}, p.next());
        assertEquals(1, p.pending());
    }
}
