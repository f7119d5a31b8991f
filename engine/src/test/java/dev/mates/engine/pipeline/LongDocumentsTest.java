package dev.mates.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.engine.data.DataException;
import dev.mates.engine.data.DemoCorpus;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.LongDocumentCorpus;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.oracle.ReferenceSet;
import dev.mates.engine.util.Listener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A corpus of ordinary ~350-word documents, read as is at the default context: split into data points, not rejected. */
class LongDocumentsTest {
    @TempDir
    static Path dir;
    static DemoCorpus.Files files;

    @BeforeAll
    static void corpus() {
        files = LongDocumentCorpus.build(dir.resolve("long"), 1, 350, 400, 16, 16);
    }

    static RunConfig cfg(String... kv) {
        Map<String, String> m = new java.util.LinkedHashMap<>(Map.of("tokenizer.vocab", "512", "tokenizer.sample_docs", "200"));
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return RunConfig.load(null, false, m);
    }

    static RunInputs load(RunConfig cfg, Rejects rejects) {
        return RunInputs.load(List.of(files.pool().toString()), List.of(files.reference().toString()),
                List.of(files.heldout().toString()), cfg, rejects, Listener.QUIET);
    }

    @Test
    void ordinaryLongDocumentsAreSplitNotRejected() {
        Rejects rejects = Rejects.inMemory();
        RunInputs in = load(cfg(), rejects);
        assertEquals(400, in.poolDocuments());
        assertTrue(rejects.count() <= 4, "at most 1% rejected: " + rejects.summary());
        assertTrue(in.splitDocuments() >= 360, "nearly every 350-word document is longer than 128 tokens: " + in.splitDocuments());
        assertTrue(in.pool().size() > 2 * in.poolDocuments(), in.pool().size() + " data points");
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < in.pool().size(); i++) {
            assertTrue(in.poolTokens()[i].length <= 128, "data point " + in.pool().get(i).id());
            assertTrue(ids.add(in.pool().get(i).id()), "ids are unique");
            assertFalse(in.pool().get(i).source().equals("unknown"), "pieces keep their document's source");
        }
        assertTrue(in.pool().get(0).id().matches("long-\\d+#0"), in.pool().get(0).id());
        // Reference and held-out documents are counted whole, over several rows, not cut to the first 128 tokens.
        long refTokens = in.reference().stream().mapToLong(d -> in.tokenizer().encode(d.text()).length).sum();
        assertEquals(refTokens, ReferenceSet.batch(in.reference(), in.tokenizer(), 128).countedTokens());
        assertTrue(ReferenceSet.batch(in.reference(), in.tokenizer(), 128).size() > in.reference().size());
    }

    @Test
    void noDataPointOfAProbeDocumentIsEverInTheStream() {
        RunInputs in = load(cfg("oracle.probes", "20"), Rejects.inMemory());
        DataPlan plan = DataPlan.of(cfg("oracle.probes", "20"), in, true, Listener.QUIET);
        assertEquals(20, plan.probesPerStage());
        Set<Integer> probeDocs = new HashSet<>();
        for (int p : plan.probes()) probeDocs.add(in.poolDocument()[p]);
        for (int s : plan.stream()) assertFalse(probeDocs.contains(in.poolDocument()[s]), "stream point " + s);
        // Every data point is a probe, in the stream, or a sibling of a probe (dropped with its document).
        Set<Integer> seen = new HashSet<>();
        Arrays.stream(plan.probes()).forEach(seen::add);
        Arrays.stream(plan.stream()).forEach(seen::add);
        for (int i = 0; i < in.pool().size(); i++) assertTrue(seen.contains(i) || probeDocs.contains(in.poolDocument()[i]));
        // Probes take whole documents: every probe document but the last one drawn gives all its pieces, so probing
        // costs the stream as few documents as the probes fill, not one document per probe.
        long dropped = Arrays.stream(in.poolDocument()).filter(probeDocs::contains).count() - plan.probes().length;
        long piecesOfLargest = Arrays.stream(in.poolDocument()).boxed()
                .collect(java.util.stream.Collectors.groupingBy(d -> d, java.util.stream.Collectors.counting()))
                .values().stream().mapToLong(Long::longValue).max().orElse(0);
        assertTrue(dropped < piecesOfLargest, "siblings of probes dropped beyond one partial document: " + dropped);
        assertTrue(probeDocs.size() < plan.probes().length, "long documents: several probes per document, got "
                + probeDocs.size() + " documents for " + plan.probes().length + " probes");
    }

    @Test
    void truncateAndRejectModesCountWhatTheyDrop() {
        RunInputs t = load(cfg("data.long_documents", "truncate"), Rejects.inMemory());
        assertEquals(t.poolDocuments(), t.pool().size(), "one data point per document");
        assertTrue(t.truncatedDocuments() >= 360 && t.truncatedTokens() > 0);
        assertTrue(t.pool().stream().noneMatch(d -> d.id().contains("#")), "a truncated document keeps its id");
        Rejects rejects = Rejects.inMemory();
        assertThrows(DataException.class, () -> load(cfg("data.long_documents", "reject"), rejects)
                .pool().forEach(d -> { }), "nothing left? then the run says so");
        assertTrue(rejects.countsByKind().getOrDefault("document longer than the context", 0L) >= 360, rejects.summary());
    }

    @Test
    void aPoolTooSmallForItsProbesIsRefusedBeforeTrainingOrSharedWithAWarning() {
        RunInputs in = load(cfg(), Rejects.inMemory());
        int n = in.pool().size();
        List<String> warnings = new ArrayList<>();
        Listener l = new Listener() {
            @Override
            public void warn(String line) {
                warnings.add(line);
            }
        };
        // 4 stages × 160 probes is more than a fifth of the pool: every stage gets the same share.
        DataPlan shared = DataPlan.of(cfg("oracle.probes", Integer.toString(n)), in, true, l);
        assertEquals(n / 5 / 4, shared.probesPerStage());
        for (int s = 1; s <= 4; s++) assertEquals(n / 5 / 4, shared.probesOf(s).length, "stage " + s);
        assertTrue(warnings.stream().anyMatch(w -> w.contains("instead of oracle.probes")), warnings.toString());
        // So many stages that each would get fewer than 4 probes: refused with the numbers and what to change.
        int stages = n / 5 / 3;
        DataException e = assertThrows(DataException.class,
                () -> DataPlan.of(cfg("mates.stages", Integer.toString(stages)), in, true, Listener.QUIET));
        assertTrue(e.getMessage().contains(n + " data points") && e.getMessage().contains("mates.stages"), e.getMessage());
    }
}
