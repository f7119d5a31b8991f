package dev.mates.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.store.FolderObjectStore;
import dev.mates.engine.store.InMemoryStateStore;
import dev.mates.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped at any stage boundary and resumed from the stored state and checkpoint ends with the same
 * selections and final losses as the run that was never stopped.
 */
class PipelineResumeTest {
    @TempDir
    static Path dir;
    static RunConfig cfg;
    static RunInputs inputs;

    @BeforeAll
    static void data() throws IOException {
        Random r = new Random(7);
        String[] good = {"the committee adopted the report", "member states agreed on the budget",
            "the parliament voted on the proposal", "the council discussed the treaty"};
        StringBuilder pool = new StringBuilder();
        for (int i = 0; i < 900; i++) {
            String text = i % 3 == 0 ? "zq" + Integer.toHexString(r.nextInt()) + " xx " + Integer.toHexString(r.nextInt())
                    : good[r.nextInt(good.length)] + " " + good[r.nextInt(good.length)];
            pool.append("{\"id\":\"d").append(i).append("\",\"text\":\"").append(text).append("\"}\n");
        }
        StringBuilder ref = new StringBuilder();
        for (int i = 0; i < 8; i++) ref.append("{\"text\":\"").append(good[i % good.length]).append("\"}\n");
        Files.writeString(dir.resolve("pool.jsonl"), pool, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("ref.jsonl"), ref, StandardCharsets.UTF_8);
        cfg = RunConfig.load(null, false, Map.ofEntries(Map.entry("model.context", "32"),
                Map.entry("tokenizer.vocab", "300"), Map.entry("train.batch_size", "4"),
                Map.entry("mates.warmup_steps", "6"), Map.entry("mates.stage_steps", "4"), Map.entry("mates.stages", "3"),
                Map.entry("oracle.probes", "12"), Map.entry("oracle.compare_first_order", "0"),
                Map.entry("oracle.eval_batch", "8"), Map.entry("eval.interval", "4"), Map.entry("eval.batch_size", "8"),
                Map.entry("tokenizer.sample_docs", "200")));
        inputs = RunInputs.load(List.of(dir.resolve("pool.jsonl").toString()), List.of(dir.resolve("ref.jsonl").toString()),
                List.of(), cfg, new Rejects(null));
    }

    private static ObjectNode run(ObjectStore objects, InMemoryStateStore state, Pipeline.Listener l) {
        return new Pipeline("r", cfg, inputs, new EmbeddedRoles(cfg, inputs.tokenizer()), objects, state)
                .listener(l).run("mates", "random");
    }

    /** Cancels the run when it enters {@code phase} of {@code arm}, stage {@code stage}. */
    private static Pipeline.Listener cancelAt(String arm, int stage, String phase) {
        return new Pipeline.Listener() {
            boolean stop;

            @Override
            public void phase(String p, String a, int s, long step) {
                if (a.equals(arm) && s == stage && p.equals(phase)) stop = true;
            }

            @Override
            public boolean cancelled() {
                return stop;
            }
        };
    }

    private static List<String> manifests(ObjectStore store) {
        List<String> out = new ArrayList<>();
        for (String arm : List.of("mates", "random")) {
            for (int s = 1; s <= 3; s++) {
                ObjectNode m = (ObjectNode) RunArtifacts.parse(RunArtifacts.require(store, RunArtifacts.manifestKey("r", arm, s)), "m");
                m.remove("checkpointRef");
                m.remove("modelRef");
                out.add(m.toString());
            }
        }
        return out;
    }

    @Test
    void resumedRunsEndWithTheSameSelectionsAndLosses() {
        FolderObjectStore straightStore = new FolderObjectStore(dir.resolve("straight"));
        ObjectNode straight = run(straightStore, new InMemoryStateStore(), new Pipeline.Listener() {});
        List<String> expected = manifests(straightStore);

        // Stop in the middle of each kind of phase, in both arms; resume from the same stores each time.
        String[][] stops = {{"mates", "2", "fit"}, {"mates", "3", "train"}, {"random", "2", "select"}};
        for (String[] stop : stops) {
            FolderObjectStore store = new FolderObjectStore(dir.resolve("stopped-" + String.join("-", stop)));
            InMemoryStateStore state = new InMemoryStateStore();
            assertThrows(Pipeline.CancelledException.class,
                    () -> run(store, state, cancelAt(stop[0], Integer.parseInt(stop[1]), stop[2])));
            ObjectNode resumed = run(store, state, new Pipeline.Listener() {});
            assertEquals(expected, manifests(store), "selections after a stop at " + String.join("/", stop));
            for (String arm : List.of("mates", "random")) {
                assertEquals(straight.at("/arms/" + arm + "/final_reference_loss").asDouble(),
                        resumed.at("/arms/" + arm + "/final_reference_loss").asDouble(), 0.0, arm + " after " + String.join("/", stop));
                assertEquals(straight.at("/arms/" + arm + "/curve").size(), resumed.at("/arms/" + arm + "/curve").size());
            }
            assertEquals(3, resumed.get("stages").size());
            assertTrue(store.exists(RunArtifacts.reportKey("r")));
        }
    }

    @Test
    void resumeWithAnotherConfigIsRefused() {
        FolderObjectStore store = new FolderObjectStore(dir.resolve("other-config"));
        InMemoryStateStore state = new InMemoryStateStore();
        assertThrows(Pipeline.CancelledException.class, () -> run(store, state, cancelAt("mates", 2, "probe")));
        RunConfig other = cfg.with("selection.tau", "0.5");
        Pipeline p = new Pipeline("r", other, inputs, new EmbeddedRoles(other, inputs.tokenizer()), store, state);
        Pipeline.ResumeException e = assertThrows(Pipeline.ResumeException.class, () -> p.run("mates", "random"));
        assertTrue(e.getMessage().contains("another config"), e.getMessage());
    }
}
