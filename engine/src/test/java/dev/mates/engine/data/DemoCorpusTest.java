package dev.mates.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoCorpusTest {
    @TempDir
    static Path dir;
    static DemoCorpus.Files files;
    static List<Document> pool;
    static List<Document> reference;
    static List<Document> heldout;
    static Rejects rejects;

    @BeforeAll
    static void build() {
        long t0 = System.nanoTime();
        files = DemoCorpus.build(dir.resolve("demo"), 42, 400, 256, 512);
        System.out.printf("DemoCorpus: built in %.2f s, pool %s%n", (System.nanoTime() - t0) / 1e9, files.poolComposition());
        rejects = Rejects.inMemory();
        pool = new CorpusReader("pool", rejects, null).readAll(List.of(files.pool().toString()));
        reference = new CorpusReader("reference", rejects, null).readAll(List.of(files.reference().toString()));
        heldout = new CorpusReader("heldout", rejects, null).readAll(List.of(files.heldout().toString()));
    }

    @Test
    void filesAreValidAndSized() {
        assertEquals(0, rejects.count(), () -> rejects.first(5).toString());
        assertEquals(256, reference.size());
        assertEquals(512, heldout.size());
        assertEquals(pool.size(), files.poolComposition().values().stream().mapToInt(Integer::intValue).sum());
        for (List<Document> set : List.of(pool, reference, heldout)) {
            for (Document d : set) assertTrue(d.text().length() <= 400, d.id() + " has " + d.text().length() + " chars");
        }
    }

    @Test
    void everySourceIsPresentAndNoiseIsAboutAThird() {
        Map<String, Integer> c = files.poolComposition();
        for (String s : List.of("europarl-en", "europarl-other", "noise-boilerplate", "noise-spam", "noise-shuffled", "noise-markup")) {
            assertTrue(c.getOrDefault(s, 0) > 100, s + " in " + c);
        }
        long noise = pool.stream().filter(d -> d.source().startsWith("noise-")).count();
        double frac = noise / (double) pool.size();
        assertTrue(frac > 0.30 && frac < 0.40, "noise fraction " + frac);
        for (Document d : pool) assertEquals(c.containsKey(d.source()), true, d.source());
    }

    @Test
    void poolReferenceAndHeldoutAreDisjoint() {
        Set<String> poolTexts = new HashSet<>();
        pool.forEach(d -> poolTexts.add(d.text()));
        Set<String> refTexts = new HashSet<>();
        reference.forEach(d -> refTexts.add(d.text()));
        for (Document d : reference) assertTrue(!poolTexts.contains(d.text()), "reference text in pool: " + d.id());
        for (Document d : heldout) {
            assertTrue(!poolTexts.contains(d.text()), "heldout text in pool: " + d.id());
            assertTrue(!refTexts.contains(d.text()), "heldout text in reference: " + d.id());
        }
        // whole documents are held out: no chunk of a held-out document may be in the pool
        Set<String> heldDocs = new HashSet<>();
        reference.forEach(d -> heldDocs.add(d.id().substring(0, 8)));
        heldout.forEach(d -> heldDocs.add(d.id().substring(0, 8)));
        for (Document d : pool) assertTrue(!heldDocs.contains(d.id().substring(0, Math.min(8, d.id().length()))), d.id());
    }

    @Test
    void referenceIsEnglish() {
        for (Document d : reference) {
            assertTrue(DemoCorpus.isEnglish(d.text()), d.text());
            assertEquals("europarl-en", d.source());
        }
        assertTrue(DemoCorpus.isEnglish("The Commission has presented a proposal to the Council and we will vote on it."));
        assertTrue(!DemoCorpus.isEnglish("La Commission a présenté une proposition au Conseil et nous la voterons."));
        assertTrue(!DemoCorpus.isEnglish("Die Kommission hat dem Rat einen Vorschlag vorgelegt, über den wir abstimmen."));
    }

    @Test
    void deterministicBySeed() throws IOException {
        DemoCorpus.Files again = DemoCorpus.build(dir.resolve("again"), 42, 400, 256, 512);
        assertEquals(Files.readString(files.pool()), Files.readString(again.pool()));
        assertEquals(Files.readString(files.reference()), Files.readString(again.reference()));
        DemoCorpus.Files other = DemoCorpus.build(dir.resolve("other"), 43, 400, 256, 512);
        assertTrue(!Files.readString(files.reference()).equals(Files.readString(other.reference())));
    }

    @Test
    void chunksEndAtSentencesUnlessASentenceIsTooLong() {
        List<String> c = DemoCorpus.chunk("One two. Three four five. Six.", 20);
        assertEquals(List.of("One two.", "Three four five.", "Six."), c);
        List<String> hard = DemoCorpus.chunk("x".repeat(45), 20);
        assertEquals(List.of("x".repeat(20), "x".repeat(20), "x".repeat(5)), hard);
    }
}
