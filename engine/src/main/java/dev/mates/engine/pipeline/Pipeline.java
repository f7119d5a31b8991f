package dev.mates.engine.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.Packer;
import dev.mates.engine.influence.FitReport;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.oracle.ReferenceSet;
import dev.mates.engine.score.Scorer;
import dev.mates.engine.select.Selection;
import dev.mates.engine.select.SelectionManifest;
import dev.mates.engine.select.Selector;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StateStore;
import dev.mates.engine.train.Checkpoint;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Correlation;
import dev.mates.engine.util.Progress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The MATES loop (DESIGN §2), talking to the roles only through their interfaces:
 * warm-up on random pool data for W steps; then every U steps probe → fit → score → select → train, for each
 * arm ({@code mates}, and the {@code random} baseline with the same budget, seed and candidate pools).
 *
 * <p>Data discipline: the pool is shuffled once by seed; the first {@code stages × probes} documents are the
 * probe set (never trained on, never candidates), the rest is a stream consumed once: warm-up data, then one
 * fresh candidate pool per stage. Reference and held-out sets come from their own files.
 */
public final class Pipeline {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Builds the stage's roles; an arm needs a fresh influence model per stage (the paper refits each stage).
     * Embedded roles are local objects; distributed roles are gRPC clients that find the run's stored artefacts
     * through the {@link Stage} (run, arm, stage, checkpoint key; layout in {@link RunArtifacts}).
     */
    public interface Roles {
        Trainer trainer();

        OracleProber oracle(Trainer trainer, TokenBatch reference, String method, Stage stage);

        InfluenceModel influenceModel(Stage stage);

        Scorer scorer(InfluenceModel model, Stage stage);

        Selector selector(String name);
    }

    /** Where the loop is: which run, arm and stage, and the object key of the checkpoint the stage starts from. */
    public record Stage(String run, String arm, int stage, String checkpointKey) {}

    /** Observes a run (progress for `mates run --remote`, metrics) and may cancel it between steps. */
    public interface Listener {
        default void phase(String phase, String arm, int stage, long step) {}

        default void progress(String label, long done, long total, String unit, String detail) {}

        default void log(String line) {}

        /** Polled between training steps and phases; true stops the run with {@link CancelledException}. */
        default boolean cancelled() {
            return false;
        }
    }

    /** The run was cancelled through its {@link Listener}; its state and checkpoints stay resumable. */
    public static final class CancelledException extends RuntimeException {
        public CancelledException(String run) {
            super("run " + run + " was cancelled");
        }
    }

    /** A stored resume point does not fit this run (another config, or a corrupt partial report). */
    public static final class ResumeException extends RuntimeException {
        public ResumeException(String message) {
            super(message);
        }
    }

    private final RunConfig cfg;
    private final RunInputs in;
    private final Roles roles;
    private final ObjectStore objects;
    private final StateStore state;
    private final String run;
    private final ObjectNode report = JSON.createObjectNode();
    private Listener listener = new Listener() {};
    private String currentArm = "";

    public Pipeline(String run, RunConfig cfg, RunInputs in, Roles roles, ObjectStore objects, StateStore state) {
        this.run = run;
        this.cfg = cfg;
        this.in = in;
        this.roles = roles;
        this.objects = objects;
        this.state = state;
    }

    public Pipeline listener(Listener l) {
        this.listener = l;
        return this;
    }

    /** What a resumed run restarts from: read from the run's state hash and its partial report. */
    private record ResumePoint(int armIndex, int stage, String checkpointKey, String warmKey, ObjectNode partial) {}

    private ResumePoint resumePoint() {
        Map<String, String> st = state.get(RunArtifacts.stateKey(run));
        if (!st.containsKey("resume_stage") || !objects.exists(RunArtifacts.partialReportKey(run))) return null;
        ObjectNode partial = (ObjectNode) RunArtifacts.parse(
                RunArtifacts.require(objects, RunArtifacts.partialReportKey(run)), RunArtifacts.partialReportKey(run));
        if (!JSON.valueToTree(cfg.asMap()).equals(partial.path("report").path("config"))) {
            throw new ResumeException("run " + run + " was started with another config; resume it with the same "
                    + "config, or start a new run id");
        }
        return new ResumePoint(Integer.parseInt(st.get("resume_arm_index")), Integer.parseInt(st.get("resume_stage")),
                st.get("resume_checkpoint"), st.get("warm_checkpoint"), partial);
    }

    /** Saves where a resumed run would restart: this arm/stage, from {@code ckKey}, with the report so far. */
    private void saveResumePoint(int armIndex, int stage, String ckKey, String warmKey, ArrayNode warmCurve,
                                 ArrayNode curve, double overheadSeconds, double overheadFlops) {
        ObjectNode partial = JSON.createObjectNode();
        partial.set("report", report);
        partial.set("warm_curve", warmCurve);
        partial.set("curve", curve);
        partial.put("overhead_seconds", overheadSeconds);
        partial.put("overhead_flops", overheadFlops);
        objects.put(RunArtifacts.partialReportKey(run), RunArtifacts.json(partial));
        state.put(RunArtifacts.stateKey(run), Map.of("resume_arm_index", Integer.toString(armIndex),
                "resume_stage", Integer.toString(stage), "resume_checkpoint", ckKey, "warm_checkpoint", warmKey));
    }

    private void checkCancelled() {
        if (listener.cancelled()) throw new CancelledException(run);
    }

    /** Runs the arms and returns report.json as a tree (schema: docs/report-schema.md). */
    public ObjectNode run(String selectorName, String baseline) {
        long seed = cfg.getLong("seed");
        int context = cfg.getInt("model.context");
        int batch = cfg.getInt("train.batch_size");
        int warmup = cfg.getInt("mates.warmup_steps");
        int stageSteps = cfg.getInt("mates.stage_steps");
        int stages = cfg.getInt("mates.stages");
        int probes = cfg.getInt("oracle.probes");
        double multiplier = cfg.getDouble("selection.pool_multiplier");

        // One shuffle by seed decides the probe set and the order of the training stream for every arm.
        int[] order = shuffled(in.pool().size(), seed);
        int probeTotal = selectorName.equals("random") ? 0 : Math.min(stages * probes, in.pool().size() / 5);
        int[] probeIdx = Arrays.copyOfRange(order, 0, probeTotal);
        int[] stream = Arrays.copyOfRange(order, probeTotal, order.length);
        double meanTokens = Arrays.stream(stream).mapToDouble(i -> in.poolTokens()[i].length + 1).average().orElse(1);
        long tokensPerStage = (long) stageSteps * batch * context;
        int k = (int) Math.max(1, Math.ceil(tokensPerStage / meanTokens));
        int poolSize = (int) Math.ceil(k * multiplier);

        TokenBatch reference = ReferenceSet.batch(in.reference(), in.tokenizer(), context);
        TokenBatch heldout = in.heldout().isEmpty() ? null : ReferenceSet.batch(in.heldout(), in.tokenizer(), context);
        report.put("run", run);
        report.set("config", JSON.valueToTree(cfg.asMap()));
        ObjectNode data = report.putObject("data");
        data.put("pool_documents", in.pool().size());
        data.put("probe_documents", probeTotal);
        data.put("reference_documents", in.reference().size());
        data.put("reference_targets", reference.countedTokens());
        data.put("heldout_documents", in.heldout().size());
        data.put("mean_document_tokens", meanTokens);
        data.put("selection_k", k);
        data.put("candidate_pool", poolSize);
        data.put("tokenizer_vocab", in.tokenizer().vocabSize());

        // The artefacts a remote role needs to rebuild this run's model, tokenizer and reference set.
        objects.put(RunArtifacts.configKey(run), RunArtifacts.configBytes(cfg));
        objects.put(RunArtifacts.tokenizerKey(run), in.tokenizer().toBytes());
        objects.put(RunArtifacts.referenceKey(run), RunArtifacts.documentsToJsonl(in.reference()));

        ResumePoint resume = resumePoint();
        ObjectNode arms = report.putObject("arms");
        ArrayNode stageReports = report.putArray("stages");
        if (resume != null) {
            ObjectNode old = (ObjectNode) resume.partial.get("report");
            arms.setAll((ObjectNode) old.get("arms"));
            stageReports.addAll((ArrayNode) old.get("stages"));
            listener.log("resuming run " + run + " at arm " + resume.armIndex + ", stage " + resume.stage
                    + " from " + objects.ref(resume.checkpointKey));
        }
        try (Trainer trainer = roles.trainer()) {
            report.put("model_parameters", trainer.config().parameterCount());
            Cursor cursor = new Cursor(stream);
            ArrayNode warmCurve;
            Checkpoint warm;
            String warmKey;
            if (resume == null) {
                warmCurve = JSON.createArrayNode();
                currentArm = "shared";
                phase("warmup", 0, 0);
                trainSteps(trainer, "warm-up", warmup, randomStream(cursor), reference, heldout, warmCurve);
                warm = trainer.checkpoint().withDataCursor(cursor.pos);
                warmKey = saveCheckpoint(warm, "shared");
            } else {
                warmCurve = (ArrayNode) resume.partial.get("warm_curve");
                warmKey = resume.warmKey;
                warm = RunArtifacts.readCheckpoint(objects, warmKey);
            }
            int streamAfterWarmup = (int) warm.dataCursor();

            List<String> armNames = new ArrayList<>(List.of(selectorName));
            if (!baseline.equals("none") && !baseline.equals(selectorName)) armNames.add(baseline);
            for (int armIndex = 0; armIndex < armNames.size(); armIndex++) {
                String arm = armNames.get(armIndex);
                currentArm = arm;
                if (resume != null && armIndex < resume.armIndex) continue;
                ArrayNode curve = warmCurve.deepCopy();
                double overheadSeconds = 0;
                double overheadFlops = 0;
                int firstStage = 1;
                if (resume != null && armIndex == resume.armIndex) {
                    Checkpoint from = RunArtifacts.readCheckpoint(objects, resume.checkpointKey);
                    trainer.restore(from);
                    cursor.pos = (int) from.dataCursor();
                    curve = (ArrayNode) resume.partial.get("curve");
                    overheadSeconds = resume.partial.get("overhead_seconds").asDouble();
                    overheadFlops = resume.partial.get("overhead_flops").asDouble();
                    firstStage = resume.stage;
                } else {
                    trainer.restore(warm);
                    cursor.pos = streamAfterWarmup;
                }
                for (int s = firstStage; s <= stages; s++) {
                    checkCancelled();
                    // The stage's resume point: its starting checkpoint (with the data cursor) and the report so far.
                    String ckKey = (resume != null && armIndex == resume.armIndex && s == resume.stage)
                            ? resume.checkpointKey : saveCheckpoint(trainer.checkpoint().withDataCursor(cursor.pos), arm);
                    saveResumePoint(armIndex, s, ckKey, warmKey, warmCurve, curve, overheadSeconds, overheadFlops);
                    String ckRef = objects.ref(ckKey);
                    Stage stage = new Stage(run, arm, s, ckKey);
                    ObjectNode sr = arm.equals(selectorName) ? stageReports.addObject() : null;
                    if (sr != null) {
                        sr.put("stage", s);
                        sr.put("step", trainer.step());
                    }
                    int[] candidates = cursor.take(poolSize);
                    List<Document> pool = docs(candidates);
                    double[] scores = new double[pool.size()];
                    String modelRef = null;
                    if (!arm.equals("random")) {
                        int[] stageProbes = Arrays.copyOfRange(probeIdx, Math.min(probeIdx.length, (s - 1) * probes),
                                Math.min(probeIdx.length, s * probes));
                        Overhead o = probeFitScore(trainer, reference, docs(stageProbes), pool, stage, scores, sr);
                        overheadSeconds += o.seconds;
                        overheadFlops += o.flops;
                        modelRef = o.modelRef;
                    }
                    checkCancelled();
                    phase("select", s, trainer.step());
                    Selector selector = roles.selector(arm);
                    Selection sel = selector.begin(Math.min(k, pool.size()), seed, s);
                    for (int i = 0; i < pool.size(); i++) sel.offer(pool.get(i).key(), i, scores[i]);
                    int[] chosen = sel.result();
                    List<String> ids = new ArrayList<>();
                    Map<String, Integer> composition = new TreeMap<>();
                    for (int c : chosen) {
                        ids.add(pool.get(c).id());
                        composition.merge(pool.get(c).source(), 1, Integer::sum);
                    }
                    Map<String, Integer> poolComposition = new TreeMap<>();
                    for (Document d : pool) poolComposition.merge(d.source(), 1, Integer::sum);
                    double tau = arm.equals("random") ? 0 : cfg.getDouble("selection.tau");
                    SelectionManifest manifest = new SelectionManifest(run, s, selector.name(), seed, tau, chosen.length,
                            pool.size(), ckRef, modelRef, ids, composition);
                    String manifestKey = RunArtifacts.manifestKey(run, arm, s);
                    objects.put(manifestKey, json(manifest));
                    if (sr != null) {
                        ObjectNode se = sr.putObject("selection");
                        se.put("selector", selector.name());
                        se.put("k", chosen.length);
                        se.put("pool", pool.size());
                        se.put("tau", tau);
                        se.put("seed", seed);
                        se.set("composition", JSON.valueToTree(composition));
                        se.set("pool_composition", JSON.valueToTree(poolComposition));
                        se.put("manifest", objects.ref(manifestKey));
                    } else {
                        ObjectNode target = (ObjectNode) stageReports.get(s - 1);
                        if (target != null) {
                            target.putObject("baseline_selection").put("selector", selector.name())
                                    .put("k", chosen.length).set("composition", JSON.valueToTree(composition));
                        }
                    }
                    phase("train", s, trainer.step());
                    trainSteps(trainer, arm + " s" + s, stageSteps, selectionStream(chosen, candidates, seed, s),
                            reference, heldout, curve);
                }
                saveCheckpoint(trainer.checkpoint().withDataCursor(cursor.pos), arm);
                ObjectNode a = arms.putObject(arm);
                a.set("curve", curve);
                ObjectNode last = (ObjectNode) curve.get(curve.size() - 1);
                a.put("tokens", last.get("tokens").asLong());
                a.put("final_reference_loss", last.get("reference_loss").asDouble());
                if (last.has("heldout_loss")) a.put("final_heldout_loss", last.get("heldout_loss").asDouble());
                a.put("selection_overhead_seconds", overheadSeconds);
                a.put("selection_overhead_flops", overheadFlops);
                a.put("train_flops", 6.0 * trainer.config().parameterCount() * last.get("tokens").asLong());
            }
        }
        phase("done", stages, 0);
        report.set("token_efficiency", tokenEfficiency(arms, selectorName, baseline));
        objects.put(RunArtifacts.reportKey(run), RunArtifacts.json(report));
        return report;
    }

    private record Overhead(double seconds, double flops, String modelRef) {}

    private Overhead probeFitScore(Trainer trainer, TokenBatch reference, List<Document> probeDocs, List<Document> pool,
                                   Stage stage, double[] scoresOut, ObjectNode sr) {
        int s = stage.stage();
        String arm = stage.arm();
        String method = cfg.get("oracle.method");
        long t0 = System.nanoTime();
        phase("probe", s, trainer.step());
        double[] influence = roles.oracle(trainer, reference, method, stage).probe(probeDocs);
        checkCancelled();
        double probeSeconds = (System.nanoTime() - t0) / 1e9;
        double n = trainer.config().parameterCount();
        double probeTokens = probeDocs.stream().mapToDouble(d -> Math.min(trainer.config().context(),
                in.tokenizer().encode(d.text()).length + 1)).sum();
        double refTokens = (double) reference.size() * reference.length();
        double probeFlops = method.equals("exact")
                ? 6 * n * probeTokens + 2 * n * refTokens * probeDocs.size()
                : 6 * n * probeTokens + 6 * n * refTokens;
        objects.put(RunArtifacts.labelsKey(run, arm, s), RunArtifacts.labelsToJsonl(probeDocs, influence));

        ObjectNode o = sr.putObject("oracle");
        o.put("method", method);
        o.put("count", probeDocs.size());
        o.put("seconds", probeSeconds);
        o.put("flops", probeFlops);
        o.put("mean", Arrays.stream(influence).average().orElse(0));
        o.put("std", Math.sqrt(Arrays.stream(influence).map(x -> x * x).average().orElse(0)
                - Math.pow(Arrays.stream(influence).average().orElse(0), 2)));
        int compare = Math.min(cfg.getInt("oracle.compare_first_order"), probeDocs.size());
        if (method.equals("exact") && compare >= 3) {
            double[] approx = roles.oracle(trainer, reference, "first-order", stage).probe(probeDocs.subList(0, compare));
            o.put("first_order_spearman", Correlation.spearman(Arrays.copyOf(influence, compare), approx));
            o.put("first_order_compared", compare);
        }

        checkCancelled();
        phase("fit", s, trainer.step());
        InfluenceModel model = roles.influenceModel(stage);
        FitReport fit = model.fit(probeDocs, influence, cfg.getLong("seed") * 1000 + s);
        String modelKey = RunArtifacts.modelKey(run, arm, s, model.backbone());
        objects.put(modelKey, model.save());
        ObjectNode f = sr.putObject("influence");
        f.put("backbone", fit.backbone());
        f.put("train", fit.trainSize());
        f.put("val", fit.valSize());
        f.put("epochs", fit.epochs());
        f.put("best_epoch", fit.bestEpoch());
        f.put("val_spearman", fit.valSpearman());
        f.put("val_pearson", fit.valPearson());
        f.put("seconds", fit.seconds());
        double fitFlops = probeDocs.stream().mapToDouble(d -> model.flopsPerDoc(tokenCount(d))).sum();
        f.put("flops", fitFlops);
        String fitLine = String.format(Locale.ROOT, "stage %d    influence model %s: val Spearman %.3f, Pearson %.3f (best epoch %d/%d)",
                s, fit.backbone(), fit.valSpearman(), fit.valPearson(), fit.bestEpoch(), fit.epochs());
        System.err.println(fitLine);
        listener.log(fitLine);

        checkCancelled();
        phase("score", s, trainer.step());
        long t1 = System.nanoTime();
        double[] scores = roles.scorer(model, stage).score(pool);
        System.arraycopy(scores, 0, scoresOut, 0, scores.length);
        double scoreSeconds = (System.nanoTime() - t1) / 1e9;
        double scoreFlops = pool.stream().mapToDouble(d -> model.flopsPerDoc(tokenCount(d))).sum();
        ObjectNode sc = sr.putObject("scoring");
        sc.put("docs", pool.size());
        sc.put("seconds", scoreSeconds);
        sc.put("docs_per_second", pool.size() / Math.max(1e-9, scoreSeconds));
        sc.put("flops", scoreFlops);
        return new Overhead(probeSeconds + fit.seconds() + scoreSeconds, probeFlops + fitFlops + scoreFlops,
                objects.ref(modelKey));
    }

    private int tokenCount(Document d) {
        return Math.min(cfg.getInt("model.context"), Math.max(1, d.text().length() / 4));
    }

    /** Trains {@code steps} steps on sequences from {@code source}, evaluating every eval.interval steps. */
    private void trainSteps(Trainer trainer, String label, int steps, Supplier<int[]> source,
                            TokenBatch reference, TokenBatch heldout, ArrayNode curve) {
        int batch = cfg.getInt("train.batch_size");
        int context = cfg.getInt("model.context");
        int interval = cfg.getInt("eval.interval");
        int evalBatch = cfg.getInt("eval.batch_size");
        if (curve.isEmpty()) curve.add(evalPoint(trainer, reference, heldout, evalBatch));
        Progress bar = new Progress(label, steps, "steps");
        double lossSum = 0;
        for (int i = 0; i < steps; i++) {
            int[][] seqs = new int[batch][];
            for (int b = 0; b < batch; b++) seqs[b] = source.get();
            double loss = trainer.trainStep(TokenBatch.ofSequences(seqs));
            lossSum += loss;
            bar.step(1);
            String status = String.format(Locale.ROOT, "loss %.3f | %.0f tok/s", loss, bar.rate() * batch * context);
            bar.status(status);
            listener.progress(label, i + 1, steps, "steps", status);
            checkCancelled();
            if (trainer.step() % interval == 0 || i == steps - 1) {
                curve.add(evalPoint(trainer, reference, heldout, evalBatch));
            }
        }
        ObjectNode last = (ObjectNode) curve.get(curve.size() - 1);
        String summary = String.format(Locale.ROOT, "mean train loss %.3f, reference %.4f%s, %.0f tok/s", lossSum / Math.max(1, steps),
                last.get("reference_loss").asDouble(),
                last.has("heldout_loss") ? String.format(Locale.ROOT, ", held-out %.4f", last.get("heldout_loss").asDouble()) : "",
                bar.rate() * batch * context);
        bar.done(summary);
        listener.log(label + ": " + summary);
    }

    private ObjectNode evalPoint(Trainer trainer, TokenBatch reference, TokenBatch heldout, int evalBatch) {
        ObjectNode p = JSON.createObjectNode();
        p.put("step", trainer.step());
        p.put("tokens", trainer.step() * cfg.getInt("train.batch_size") * cfg.getInt("model.context"));
        p.put("reference_loss", trainer.evaluate(reference, evalBatch));
        if (heldout != null) p.put("heldout_loss", trainer.evaluate(heldout, evalBatch));
        return p;
    }

    /**
     * Tokens the selector's arm needed to reach the baseline's final reference loss ÷ the baseline's tokens
     * (linear interpolation between evaluation points); null when never reached or no baseline.
     */
    static com.fasterxml.jackson.databind.JsonNode tokenEfficiency(ObjectNode arms, String selector, String baseline) {
        if (!arms.has(selector) || !arms.has(baseline) || selector.equals(baseline)) return JSON.nullNode();
        double target = arms.get(baseline).get("final_reference_loss").asDouble();
        double baseTokens = arms.get(baseline).get("tokens").asDouble();
        var curve = arms.get(selector).get("curve");
        for (int i = 0; i < curve.size(); i++) {
            double loss = curve.get(i).get("reference_loss").asDouble();
            if (loss <= target) {
                double tokens = curve.get(i).get("tokens").asDouble();
                if (i > 0) {
                    double l0 = curve.get(i - 1).get("reference_loss").asDouble();
                    double t0 = curve.get(i - 1).get("tokens").asDouble();
                    if (l0 > loss) tokens = t0 + (l0 - target) / (l0 - loss) * (tokens - t0);
                }
                return JSON.getNodeFactory().numberNode(tokens / baseTokens);
            }
        }
        return JSON.nullNode();
    }

    /** Warm-up data: the stream in shuffled order, packed. */
    private Supplier<int[]> randomStream(Cursor cursor) {
        return packed(() -> cursor.take(1)[0]);
    }

    /** A stage's training data: the selected documents in a seeded shuffle, packed, repeated if they run short. */
    private Supplier<int[]> selectionStream(int[] chosen, int[] candidates, long seed, int stage) {
        int[] docs = new int[chosen.length];
        for (int i = 0; i < chosen.length; i++) docs[i] = candidates[chosen[i]];
        // Selection order follows the keys (best first); shuffle so training sees no accidental curriculum.
        int[] perm = shuffled(docs.length, seed * 31 + stage);
        int[] next = {0};
        return packed(() -> docs[perm[next[0]++ % docs.length]]);
    }

    /** Training sequences packed from the pool documents {@code nextDoc} yields, one after another. */
    private Supplier<int[]> packed(IntSupplier nextDoc) {
        Packer packer = new Packer(cfg.getInt("model.context"), in.tokenizer().eosId());
        return () -> {
            while (!packer.ready()) packer.add(in.poolTokens()[nextDoc.getAsInt()]);
            return packer.next();
        };
    }

    private List<Document> docs(int[] idx) {
        List<Document> out = new ArrayList<>(idx.length);
        for (int i : idx) out.add(in.pool().get(i));
        return out;
    }

    /** Writes a checkpoint and returns its key (a folder-like prefix ending in '/'). */
    private String saveCheckpoint(Checkpoint c, String arm) {
        String base = RunArtifacts.checkpointKey(run, arm, c.step());
        RunArtifacts.writeCheckpoint(objects, base, c);
        state.put(RunArtifacts.stateKey(run), Map.of("checkpoint", objects.ref(base), "arm", arm));
        return base;
    }

    private void phase(String phase, int stage, long step) {
        state.put(RunArtifacts.stateKey(run), Map.of("phase", phase, "stage", Integer.toString(stage),
                "step", Long.toString(step), "arm", currentArm));
        listener.phase(phase, currentArm, stage, step);
    }

    private static byte[] json(Object o) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static int[] shuffled(int n, long seed) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** Position in the training stream; wraps (with a warning) when a long run outgrows the pool. */
    private static final class Cursor {
        final int[] stream;
        int pos;
        boolean warned;

        Cursor(int[] stream) {
            this.stream = stream;
        }

        int[] take(int n) {
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                if (pos >= stream.length && !warned) {
                    warned = true;
                    System.err.println("warning: the pool is exhausted; later stages reuse documents from its start "
                            + "(use a larger --pool or fewer/shorter stages)");
                }
                out[i] = stream[pos++ % stream.length];
            }
            return out;
        }
    }
}
