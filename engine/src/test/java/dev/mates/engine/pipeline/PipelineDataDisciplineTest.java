package dev.mates.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.engine.data.Document;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.influence.FitReport;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.score.Scorer;
import dev.mates.engine.select.GumbelTopKSelector;
import dev.mates.engine.select.RandomSelector;
import dev.mates.engine.select.Selection;
import dev.mates.engine.select.Selector;
import dev.mates.engine.store.FolderObjectStore;
import dev.mates.engine.store.InMemoryStateStore;
import dev.mates.engine.train.Checkpoint;
import dev.mates.engine.train.GptConfig;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Listener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data discipline of the loop, checked with fake roles (no model, milliseconds per run): probe documents are
 * never candidates and never trained on; every arm sees the same candidate pool in each stage; each candidate pool
 * is consumed once (no document is a candidate in two stages or in the warm-up); an arm trains only on what it
 * selected.
 */
class PipelineDataDisciplineTest {
    @TempDir
    static Path dir;
    static RunConfig cfg;
    static RunInputs inputs;
    static Map<String, String> idByText = new HashMap<>();

    @BeforeAll
    static void data() throws IOException {
        StringBuilder pool = new StringBuilder();
        for (int i = 0; i < 600; i++) {
            String text = "document number " + i + " says " + Integer.toString(i * 7919, 36);
            idByText.put(text, "d" + i);
            pool.append("{\"id\":\"d").append(i).append("\",\"text\":\"").append(text).append("\",\"source\":\"s")
                    .append(i % 3).append("\"}\n");
        }
        Files.writeString(dir.resolve("pool.jsonl"), pool, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("ref.jsonl"), "{\"text\":\"document number one\"}\n", StandardCharsets.UTF_8);
        cfg = RunConfig.load(null, false, Map.ofEntries(Map.entry("model.context", "32"), Map.entry("tokenizer.vocab", "300"),
                Map.entry("train.batch_size", "2"), Map.entry("mates.warmup_steps", "5"), Map.entry("mates.stage_steps", "4"),
                Map.entry("mates.stages", "3"), Map.entry("oracle.probes", "10"), Map.entry("oracle.fidelity_probes", "0"),
                Map.entry("eval.interval", "2"), Map.entry("tokenizer.sample_docs", "100")));
        inputs = RunInputs.load(List.of(dir.resolve("pool.jsonl").toString()), List.of(dir.resolve("ref.jsonl").toString()),
                List.of(), cfg, new Rejects(null), Listener.QUIET);
    }

    /** Everything the fake roles saw, by "arm/stage" (warm-up: "shared/0"). */
    static final class Seen {
        final Map<String, List<String>> candidates = new LinkedHashMap<>();
        final Map<String, Set<String>> trained = new LinkedHashMap<>();
        final Map<String, Set<String>> probed = new LinkedHashMap<>();
        final Map<String, Set<String>> selected = new LinkedHashMap<>();
        String where = "";
        /** Bumped by every phase: a new phase packs a new stream. */
        int epoch;

        Listener tracker() {
            return new Listener() {
                @Override
                public void phase(String phase, String arm, int stage, long step) {
                    where = arm + "/" + (phase.equals("budget") ? "budget" : Integer.toString(stage));
                    epoch++;
                }
            };
        }
    }

    @Test
    void probesAreNeverCandidatesOrTrainedAndEveryArmSeesTheSamePoolsOnce() {
        Seen seen = new Seen();
        Listener tracker = seen.tracker();
        List<Arm> arms = List.of(new Arm("mates", recording(new GumbelTopKSelector(1.0), seen)),
                new Arm("random", recording(new RandomSelector(), seen)));
        RunResult r = new Pipeline("d", cfg, inputs, new FakeRoles(seen, inputs.tokenizer()),
                new FolderObjectStore(dir.resolve("out")), new InMemoryStateStore()).listener(tracker).run(arms);

        assertEquals(2, r.arms().size());
        Set<String> probes = new HashSet<>();
        seen.probed.values().forEach(probes::addAll);
        assertEquals(3 * 10, probes.size(), "10 fresh probes per stage, only in the mates arm: " + seen.probed.keySet());
        assertEquals(Set.of("mates/1", "mates/2", "mates/3"), seen.probed.keySet());

        Set<String> everCandidate = new HashSet<>();
        for (int s = 1; s <= 3; s++) {
            List<String> mates = seen.candidates.get("mates/" + s);
            List<String> random = seen.candidates.get("random/" + s);
            assertEquals(mates, random, "stage " + s + ": both arms are offered the same candidates, in the same order");
            assertEquals(r.data().candidatePool(), mates.size());
            for (String id : mates) {
                assertFalse(probes.contains(id), "probe document " + id + " is a candidate in stage " + s);
                assertTrue(everCandidate.add(id), id + " is a candidate in two stages");
            }
        }
        Set<String> warm = seen.trained.get("shared/0");
        assertFalse(warm.isEmpty());
        for (String id : warm) assertFalse(everCandidate.contains(id) || probes.contains(id), "warm-up trained on " + id);
        for (var e : seen.trained.entrySet()) {
            for (String id : e.getValue()) assertFalse(probes.contains(id), e.getKey() + " trained on probe document " + id);
            if (e.getKey().endsWith("/budget")) {
                for (String id : e.getValue()) assertFalse(everCandidate.contains(id), "budget steps trained on candidate " + id);
            } else if (!e.getKey().equals("shared/0")) {
                assertTrue(seen.selected.get(e.getKey()).containsAll(e.getValue()),
                        e.getKey() + " trained only on its selection");
            }
        }
        assertEquals(r.arms().get(0).stages().get(0).selection().k(), seen.selected.get("mates/1").size());
    }

    /**
     * With mates.baseline_budget = flops the random arm trains extra steps until its total FLOPs reach the MATES
     * arm's (within one step); with tokens both arms train the same tokens.
     */
    @Test
    void theBaselineSpendsTheSelectionOverheadAsTrainingAtEqualFlops() {
        for (String budget : List.of("flops", "tokens")) {
            RunConfig c = cfg.with("mates.baseline_budget", budget);
            Seen seen = new Seen();
            List<Arm> arms = Arm.of("mates", "random", 1.0);
            RunResult r = new Pipeline("b-" + budget, c, inputs, new FakeRoles(seen, inputs.tokenizer()),
                    new FolderObjectStore(dir.resolve("budget-" + budget)), new InMemoryStateStore()).listener(seen.tracker())
                    .run(arms);
            ArmResult mates = r.arms().get(0);
            ArmResult random = r.arms().get(1);
            assertTrue(mates.overheadFlops() > 0);
            double perStep = Flops.train(r.modelParameters(), (double) c.getInt("train.batch_size") * c.getInt("model.context"));
            if (budget.equals("flops")) {
                assertTrue(random.budgetSteps() > 0, "extra steps");
                assertTrue(random.last().flops() >= mates.last().flops(), random.last() + " vs " + mates.last());
                assertTrue(random.last().flops() < mates.last().flops() + perStep, "within one step");
                assertEquals(random.last().flops(), Flops.train(r.modelParameters(), random.last().tokens()), 1e-6);
            } else {
                assertEquals(0, random.budgetSteps());
                assertEquals(mates.last().tokens(), random.last().tokens());
            }
            assertEquals(Flops.train(r.modelParameters(), mates.last().tokens()) + mates.overheadFlops(),
                    mates.last().flops(), 1e-6 * mates.last().flops(), "the curve's FLOPs include the overhead");
        }
    }

    /** Wraps a selector so that every offer (the candidates) and every result (the selection) is recorded. */
    static Selector recording(Selector inner, Seen seen) {
        return new Selector() {
            @Override
            public String name() {
                return inner.name();
            }

            @Override
            public boolean needsScores() {
                return inner.needsScores();
            }

            @Override
            public Selection begin(int k, long seed, int stage) {
                Selection sel = inner.begin(k, seed, stage);
                List<String> offered = seen.candidates.computeIfAbsent(seen.where, w -> new ArrayList<>());
                Map<Long, String> byKey = new HashMap<>();
                for (Document d : inputs.pool()) byKey.put(d.key(), d.id());
                return new Selection() {
                    final List<String> ids = new ArrayList<>();

                    @Override
                    public void offer(long docKey, int index, double score) {
                        offered.add(byKey.get(docKey));
                        ids.add(byKey.get(docKey));
                        sel.offer(docKey, index, score);
                    }

                    @Override
                    public void merge(Selection other) {
                        sel.merge(other);
                    }

                    @Override
                    public int[] result() {
                        int[] chosen = sel.result();
                        Set<String> s = new HashSet<>();
                        for (int c : chosen) s.add(ids.get(c));
                        seen.selected.put(seen.where, s);
                        return chosen;
                    }
                };
            }
        };
    }

    /** Roles that record what they are given and compute nothing of substance. */
    static final class FakeRoles implements Roles {
        final Seen seen;
        final Tokenizer tok;

        FakeRoles(Seen seen, Tokenizer tok) {
            this.seen = seen;
            this.tok = tok;
        }

        @Override
        public Trainer trainer() {
            return new FakeTrainer(seen, tok);
        }

        @Override
        public OracleProber oracle(Trainer trainer, TokenBatch reference, dev.mates.engine.oracle.OracleMethod method, Stage stage) {
            return probes -> {
                Set<String> ids = seen.probed.computeIfAbsent(stage.arm() + "/" + stage.stage(), w -> new HashSet<>());
                probes.forEach(d -> ids.add(d.id()));
                return probes.stream().mapToDouble(d -> (d.key() % 1000) / 1000.0).toArray();
            };
        }

        @Override
        public InfluenceModel influenceModel(Stage stage) {
            return new InfluenceModel() {
                @Override
                public String backbone() {
                    return "fake";
                }

                @Override
                public FitReport fit(List<Document> docs, double[] influence, long seed) {
                    return new FitReport("fake", docs.size() - 2, 1, 1, 1, 1, 0.5, 0.5, 0.001);
                }

                @Override
                public double[] predict(List<Document> docs) {
                    return docs.stream().mapToDouble(d -> d.text().length()).toArray();
                }

                @Override
                public byte[] save() {
                    return new byte[] {1};
                }

                @Override
                public double flopsPerDoc(int tokens) {
                    return tokens;
                }
            };
        }

        @Override
        public Scorer scorer(InfluenceModel model, Stage stage) {
            return model::predict;
        }
    }

    /**
     * A trainer whose "training" decodes every packed sequence back into the documents it came from (a
     * document's tokens are followed by EOS), so the test sees exactly which documents each phase trained on.
     */
    static final class FakeTrainer implements Trainer {
        final Seen seen;
        final Tokenizer tok;
        final GptConfig config;
        long step;
        List<Integer> stream = new ArrayList<>();
        int streamOf = -1;

        FakeTrainer(Seen seen, Tokenizer tok) {
            this.seen = seen;
            this.tok = tok;
            this.config = GptConfig.preset("tiny", tok.vocabSize(), cfg.getInt("model.context"));
        }

        @Override
        public GptConfig config() {
            return config;
        }

        @Override
        public long step() {
            return step;
        }

        @Override
        public double trainStep(TokenBatch batch) {
            if (seen.epoch != streamOf) { // a new phase packs a new stream
                stream = new ArrayList<>();
                streamOf = seen.epoch;
            }
            for (int b = 0; b < batch.size(); b++) {
                int[] in = batch.inputs()[b];
                if (stream.isEmpty()) stream.add(in[0]);
                for (int t = 1; t < in.length; t++) stream.add(in[t]);
                stream.add(batch.targets()[b][in.length - 1]);
            }
            Set<String> docs = seen.trained.computeIfAbsent(seen.where, w -> new HashSet<>());
            List<Integer> piece = new ArrayList<>();
            for (int t : stream) {
                if (t != tok.eosId()) {
                    piece.add(t);
                    continue;
                }
                String text = tok.decode(piece.stream().mapToInt(Integer::intValue).toArray());
                String id = idByText.get(text);
                if (id == null) throw new AssertionError("trained on a sequence that is no pool document: '" + text + "'");
                docs.add(id);
                piece.clear();
            }
            step++;
            return 1.0 / step;
        }

        @Override
        public double evaluate(TokenBatch set, int batchSize) {
            return 5.0 / (1 + step);
        }

        @Override
        public Map<String, float[]> gradient(TokenBatch set, int batchSize) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, float[]> proposedUpdate(TokenBatch batch) {
            throw new UnsupportedOperationException();
        }

        @Override
        public dev.mates.engine.train.FirstOrderInfluence firstOrderInfluence(TokenBatch reference, int batchSize, boolean atDrift) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void snapshot() {}

        @Override
        public void restoreSnapshot() {}

        @Override
        public Checkpoint checkpoint() {
            return new Checkpoint(config, step, 0, Map.of(), Map.of(), Map.of());
        }

        @Override
        public void restore(Checkpoint c) {
            step = c.step();
        }

        @Override
        public void close() {}
    }
}
