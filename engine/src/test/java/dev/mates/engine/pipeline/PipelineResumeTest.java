package dev.mates.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.store.FolderObjectStore;
import dev.mates.engine.store.InMemoryStateStore;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StateStore;
import dev.mates.engine.util.Listener;
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
                Map.entry("oracle.probes", "12"), Map.entry("oracle.fidelity_probes", "0"),
                Map.entry("oracle.eval_batch", "8"), Map.entry("eval.interval", "4"), Map.entry("eval.batch_size", "8"),
                Map.entry("tokenizer.sample_docs", "200")));
        inputs = RunInputs.load(List.of(dir.resolve("pool.jsonl").toString()), List.of(dir.resolve("ref.jsonl").toString()),
                List.of(), cfg, new Rejects(null), Listener.QUIET);
    }

    private static RunResult run(ObjectStore objects, StateStore state, Listener l) {
        return new Pipeline("r", cfg, inputs, new EmbeddedRoles(cfg, inputs.tokenizer(), Listener.QUIET), objects, state)
                .listener(l).run(Arm.of("mates", "random", cfg.getDouble("selection.tau")));
    }

    /** Cancels the run when it enters {@code phase} of {@code arm}, stage {@code stage}. */
    private static Listener cancelAt(String arm, int stage, String phase) {
        return new Listener() {
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
                ObjectNode m = (ObjectNode) RunArtifacts.parse(RunArtifacts.require(store, StorageLayout.manifestKey("r", arm, s)), "m");
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
        RunResult straight = run(straightStore, new InMemoryStateStore(), Listener.QUIET);
        List<String> expected = manifests(straightStore);

        // Stop in the middle of each kind of phase, in both arms; resume from the same stores each time.
        String[][] stops = {{"mates", "2", "fit"}, {"mates", "3", "train"}, {"random", "2", "select"}};
        for (String[] stop : stops) {
            FolderObjectStore store = new FolderObjectStore(dir.resolve("stopped-" + String.join("-", stop)));
            InMemoryStateStore state = new InMemoryStateStore();
            assertThrows(Pipeline.CancelledException.class,
                    () -> run(store, state, cancelAt(stop[0], Integer.parseInt(stop[1]), stop[2])));
            RunResult resumed = run(store, state, Listener.QUIET);
            assertEquals(expected, manifests(store), "selections after a stop at " + String.join("/", stop));
            assertSameArms(straight, resumed, String.join("/", stop));
        }
    }

    /**
     * A crash between writing a stage's resume point and moving the pointer to it (the two writes of
     * {@link RunJournal#save}) resumes from the previous point: no stage is duplicated or lost.
     */
    @Test
    void aCrashBetweenTheJournalWriteAndThePointerNeverDuplicatesAStage() {
        FolderObjectStore straightStore = new FolderObjectStore(dir.resolve("straight-crash"));
        RunResult straight = run(straightStore, new InMemoryStateStore(), Listener.QUIET);
        FolderObjectStore store = new FolderObjectStore(dir.resolve("crash"));
        InMemoryStateStore inner = new InMemoryStateStore();
        String crashAt = StorageLayout.journalKey("r", "mates", 3);
        boolean[] crashed = {false};
        StateStore crashing = new StateStore() {
            @Override
            public void put(String key, Map<String, String> fields) {
                if (!crashed[0] && crashAt.equals(fields.get("resume"))) {
                    crashed[0] = true;
                    throw new IllegalStateException("simulated crash before the resume pointer moved");
                }
                inner.put(key, fields);
            }

            @Override
            public Map<String, String> get(String key) {
                return inner.get(key);
            }

            @Override
            public void add(String key, String member) {
                inner.add(key, member);
            }

            @Override
            public void remove(String key, String member) {
                inner.remove(key, member);
            }

            @Override
            public java.util.Set<String> members(String key) {
                return inner.members(key);
            }

            @Override
            public boolean createIfAbsent(String key, Map<String, String> fields) {
                return inner.createIfAbsent(key, fields);
            }

            @Override
            public boolean lease(String key, String owner, long ttlMillis) {
                return inner.lease(key, owner, ttlMillis);
            }

            @Override
            public void release(String key, String owner) {
                inner.release(key, owner);
            }
        };
        assertThrows(IllegalStateException.class, () -> run(store, crashing, Listener.QUIET));
        assertTrue(store.exists(crashAt), "the journal object was written before the crash");
        assertEquals(StorageLayout.journalKey("r", "mates", 2), inner.get(StorageLayout.stateKey("r")).get("resume"));
        RunResult resumed = run(store, crashing, Listener.QUIET);
        assertEquals(manifests(straightStore), manifests(store));
        assertSameArms(straight, resumed, "crash before the stage-3 pointer");
    }

    private static void assertSameArms(RunResult straight, RunResult resumed, String what) {
        assertEquals(2, resumed.arms().size(), what);
        for (int a = 0; a < 2; a++) {
            ArmResult s = straight.arms().get(a);
            ArmResult r = resumed.arms().get(a);
            assertEquals(s.name(), r.name());
            assertEquals(s.last().referenceLoss(), r.last().referenceLoss(), 0.0, s.name() + " after " + what);
            assertEquals(s.curve(), r.curve(), s.name() + " curve after " + what);
            assertEquals(List.of(1, 2, 3), r.stages().stream().map(StageResult::stage).toList(), "stages after " + what);
            assertEquals(s.stages().stream().map(x -> x.selection().k()).toList(),
                    r.stages().stream().map(x -> x.selection().k()).toList());
        }
    }

    @Test
    void resumeWithAnotherConfigIsRefused() {
        FolderObjectStore store = new FolderObjectStore(dir.resolve("other-config"));
        InMemoryStateStore state = new InMemoryStateStore();
        assertThrows(Pipeline.CancelledException.class, () -> run(store, state, cancelAt("mates", 2, "probe")));
        RunConfig other = cfg.with("selection.tau", "0.5");
        Pipeline p = new Pipeline("r", other, inputs, new EmbeddedRoles(other, inputs.tokenizer(), Listener.QUIET), store, state);
        RunJournal.ResumeException e = assertThrows(RunJournal.ResumeException.class,
                () -> p.run(Arm.of("mates", "random", 0.5)));
        assertTrue(e.getMessage().contains("another config"), e.getMessage());
    }
}
