package dev.mates.engine.pipeline;

import dev.mates.engine.data.Document;
import dev.mates.engine.data.Packer;
import dev.mates.engine.influence.FitReport;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.oracle.OracleMethod;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.oracle.ReferenceSet;
import dev.mates.engine.select.Selection;
import dev.mates.engine.select.SelectionManifest;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StateStore;
import dev.mates.engine.train.Checkpoint;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Correlation;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The MATES loop (Yu, Das &amp; Xiong 2024, Algorithm 1), talking to the roles only through their interfaces:
 * warm up on random pool data for W steps; then, for each arm, every U steps probe → fit → score → select → train.
 * {@link #run} is the whole loop on one page; each phase below it returns a typed record, gathered per stage in a
 * {@link StageResult}. Which documents are probes and which are candidates is the {@link DataPlan}'s business;
 * where a run restarts is the {@link RunJournal}'s.
 */
public final class Pipeline {
    /** The run was cancelled through its {@link Listener}; its state and checkpoints stay resumable. */
    public static final class CancelledException extends RuntimeException {
        public CancelledException(String run) {
            super("run " + run + " was cancelled");
        }
    }

    private final String run;
    private final RunConfig cfg;
    private final RunInputs in;
    private final Roles roles;
    private final ObjectStore objects;
    private final StateStore state;
    private final RunJournal journal;
    private final TokenBatch reference;
    private final TokenBatch heldout;
    private Listener listener = Listener.QUIET;
    private String currentArm = "";

    public Pipeline(String run, RunConfig cfg, RunInputs in, Roles roles, ObjectStore objects, StateStore state) {
        this.run = run;
        this.cfg = cfg;
        this.in = in;
        this.roles = roles;
        this.objects = objects;
        this.state = state;
        this.journal = new RunJournal(run, objects, state);
        int context = cfg.getInt("model.context");
        this.reference = ReferenceSet.batch(in.reference(), in.tokenizer(), context);
        this.heldout = in.heldout().isEmpty() ? null : ReferenceSet.batch(in.heldout(), in.tokenizer(), context);
    }

    public Pipeline listener(Listener l) {
        this.listener = l;
        return this;
    }

    /** Runs every arm from the shared warm-up (or from the run's resume point) and returns what each did. */
    public RunResult run(List<Arm> arms) {
        DataPlan plan = DataPlan.of(cfg, in, arms.get(0).selector().needsScores(), listener);
        publishInputs();
        RunJournal.Point resume = journal.load(cfg).orElse(null);
        if (resume != null) listener.log("resuming run " + run + " at arm " + resume.current().armIndex() + ", stage "
                + resume.current().stage() + " from " + objects.ref(resume.current().checkpoint()));
        try (Trainer trainer = roles.trainer()) {
            Cursor cursor = new Cursor(plan.stream());
            List<EvalPoint> warmCurve = resume != null ? resume.warmCurve() : new ArrayList<>();
            String warmKey = resume != null ? resume.warmCheckpoint() : warmUp(trainer, cursor, warmCurve);
            Checkpoint warm = RunArtifacts.readCheckpoint(objects, warmKey);
            List<ArmResult> done = new ArrayList<>(resume != null ? resume.finishedArms() : List.of());
            for (int a = done.size(); a < arms.size(); a++) {
                Arm arm = arms.get(a);
                currentArm = arm.name();
                boolean resumed = resume != null && resume.current().armIndex() == a;
                RunJournal.ArmProgress at = resumed ? resume.current() : RunJournal.ArmProgress.start(a, warmCurve);
                Checkpoint from = resumed ? RunArtifacts.readCheckpoint(objects, at.checkpoint()) : warm;
                trainer.restore(from);
                cursor.pos = (int) from.dataCursor();
                int first = at.stage();
                for (int s = first; s <= cfg.getInt("mates.stages"); s++) {
                    checkCancelled();
                    at = at.atStage(s, resumed && s == first ? at.checkpoint() : saveCheckpoint(trainer, cursor, arm.name()));
                    journal.save(arm.name(), new RunJournal.Point(cfg.asMap(), warmKey, warmCurve, done, at));
                    Stage stage = new Stage(run, arm.name(), s, at.checkpoint());
                    long step = trainer.step();
                    int[] candidates = cursor.take(plan.poolSize());
                    List<Document> pool = docs(candidates);
                    List<Document> probes = docs(plan.probesOf(s));
                    OracleResult oracle = null;
                    FitResult fit = null;
                    ScoreResult scores = null;
                    if (arm.selector().needsScores()) {
                        oracle = probe(trainer, stage, step, probes);
                        fit = fit(stage, step, probes, oracle);
                        scores = score(stage, step, fit, pool);
                    }
                    SelectionResult selection = select(arm, stage, step, pool, scores, fit, plan.k());
                    phase("train", s, step);
                    double overhead = at.overheadFlops() + StageResult.overheadFlops(oracle, fit, scores);
                    TrainResult train = trainSteps(trainer, arm.name() + " s" + s, cfg.getInt("mates.stage_steps"),
                            selectionStream(selection.chosen(), candidates, s), at.curve(), overhead);
                    at = at.after(new StageResult(s, step, oracle, fit, scores, selection, train));
                }
                int extra = a == 0 ? 0 : budgetSteps(done.get(0), at, trainer);
                if (extra > 0) phase("budget", cfg.getInt("mates.stages"), trainer.step());
                if (extra > 0) trainSteps(trainer, arm.name() + " +budget", extra, packed(() -> cursor.take(1)[0]), at.curve(),
                        at.overheadFlops());
                saveCheckpoint(trainer, cursor, arm.name());
                done.add(at.finish(arm.name(), extra));
            }
            phase("done", cfg.getInt("mates.stages"), 0);
            return new RunResult(run, cfg.asMap(), trainer.config().parameterCount(), dataSummary(plan), done);
        }
    }

    // ---- the phases ------------------------------------------------------------------------------------------

    /** Warm-up: the stream in shuffled order; returns the key of the shared checkpoint every arm starts from. */
    private String warmUp(Trainer trainer, Cursor cursor, List<EvalPoint> curve) {
        currentArm = "shared";
        phase("warmup", 0, 0);
        trainSteps(trainer, "warm-up", cfg.getInt("mates.warmup_steps"), packed(() -> cursor.take(1)[0]), curve, 0);
        return saveCheckpoint(trainer, cursor, "shared");
    }

    /** Oracle influence of each probe at the live state, stored as the stage's labels, with the oracle's fidelity. */
    private OracleResult probe(Trainer trainer, Stage stage, long step, List<Document> probes) {
        OracleMethod method = cfg.oracleMethod();
        long t0 = System.nanoTime();
        phase("probe", stage.stage(), step);
        double[] influence;
        try (OracleProber oracle = roles.oracle(trainer, reference, method, stage)) {
            influence = oracle.probe(probes);
        }
        checkCancelled();
        objects.put(StorageLayout.labelsKey(run, stage.arm(), stage.stage()), RunArtifacts.labelsToJsonl(probes, influence));
        double flops = probeFlops(method, trainer, probes);
        double mean = Arrays.stream(influence).average().orElse(0);
        double std = Math.sqrt(Arrays.stream(influence).map(x -> x * x).average().orElse(0) - mean * mean);
        int compare = Math.min(cfg.getInt("oracle.fidelity_probes"), probes.size());
        OracleMethod approximate = method == OracleMethod.EXACT ? OracleMethod.DIRECTIONAL : method;
        Double agreement = null;
        double fidelitySeconds = 0;
        if (compare >= 3) {
            // The approximate oracle's ranking against the exact one on the first probes: whichever of the two the run
            // did not use is computed here, and its cost is overhead like the rest.
            long f0 = System.nanoTime();
            OracleMethod other = method == OracleMethod.EXACT ? approximate : OracleMethod.EXACT;
            double[] theirs;
            try (OracleProber oracle = roles.oracle(trainer, reference, other, stage)) {
                theirs = oracle.probe(probes.subList(0, compare));
            }
            agreement = Correlation.spearman(Arrays.copyOf(influence, compare), theirs);
            flops += probeFlops(other, trainer, probes.subList(0, compare));
            fidelitySeconds = (System.nanoTime() - f0) / 1e9;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new OracleResult(method.key(), probes.size(), seconds, flops, mean, std, agreement == null ? null : approximate.key(),
                agreement, agreement == null ? null : compare, fidelitySeconds, influence);
    }

    /**
     * With {@code mates.baseline_budget = flops}, the extra steps a later arm trains (on the stream, like the
     * warm-up) so that its total FLOPs reach the first arm's: the random arm spends what MATES spent on selection
     * as training, and the arms are compared at equal compute. None with {@code tokens}.
     */
    private int budgetSteps(ArmResult first, RunJournal.ArmProgress at, Trainer trainer) {
        if (!cfg.get("mates.baseline_budget").equals("flops")) return 0;
        double deficit = first.last().flops() - at.curve().get(at.curve().size() - 1).flops();
        double perStep = Flops.train(trainer.config().parameterCount(),
                (double) cfg.getInt("train.batch_size") * cfg.getInt("model.context"));
        return deficit <= 0 ? 0 : (int) Math.ceil(deficit / perStep);
    }

    /** What probing {@code probes} with {@code method} executes ({@link Flops}). */
    private double probeFlops(OracleMethod method, Trainer trainer, List<Document> probes) {
        long n = trainer.config().parameterCount();
        double probeTokens = probes.stream().mapToDouble(d -> Math.min(trainer.config().context(),
                in.tokenizer().encode(d.text()).length + 1)).sum();
        double refTokens = (double) reference.size() * reference.length();
        return switch (method) {
            case EXACT -> Flops.exactProbes(n, probeTokens, probes.size(), refTokens);
            case FIRST_ORDER -> Flops.firstOrderProbes(n, probeTokens, refTokens);
            case DIRECTIONAL -> Flops.directionalProbes(n, probeTokens, refTokens);
        };
    }

    /** A fresh influence model fitted on the stage's labels, stored under the stage. */
    private FitResult fit(Stage stage, long step, List<Document> probes, OracleResult oracle) {
        checkCancelled();
        phase("fit", stage.stage(), step);
        InfluenceModel model = roles.influenceModel(stage);
        FitReport f = model.fit(probes, oracle.influence(), cfg.getLong("seed") * 1000 + stage.stage());
        String key = StorageLayout.modelKey(run, stage.arm(), stage.stage(), model.backbone());
        objects.put(key, model.save());
        double flops = probes.stream().mapToDouble(d -> model.flopsPerDoc(tokenCount(d))).sum();
        double[] ci = Correlation.spearmanInterval(f.valSpearman(), f.valSize());
        listener.log(String.format(Locale.ROOT, "stage %d    influence model %s: val Spearman %.3f [95%% %.3f, %.3f] on %d, "
                        + "Pearson %.3f (best epoch %d/%d on %d others)", stage.stage(), f.backbone(), f.valSpearman(), ci[0], ci[1],
                f.valSize(), f.valPearson(), f.bestEpoch(), f.epochs(), f.tuneSize()));
        return new FitResult(f.backbone(), f.trainSize(), f.tuneSize(), f.valSize(), f.epochs(), f.bestEpoch(), f.valSpearman(),
                ci[0], ci[1], f.valPearson(), f.seconds(), flops, model, objects.ref(key));
    }

    /** The fitted model's predicted influence of every candidate. */
    private ScoreResult score(Stage stage, long step, FitResult fit, List<Document> pool) {
        checkCancelled();
        phase("score", stage.stage(), step);
        long t0 = System.nanoTime();
        double[] scores = roles.scorer(fit.model(), stage).score(pool);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double flops = pool.stream().mapToDouble(d -> fit.model().flopsPerDoc(tokenCount(d))).sum();
        return new ScoreResult(pool.size(), seconds, pool.size() / Math.max(1e-9, seconds), flops, scores);
    }

    /** The arm's selector over the candidates (scores of 0 for a selector that needs none); the manifest is stored. */
    private SelectionResult select(Arm arm, Stage stage, long step, List<Document> pool, ScoreResult scores,
                                   FitResult fit, int k) {
        checkCancelled();
        phase("select", stage.stage(), step);
        long seed = cfg.getLong("seed");
        Selection sel = arm.selector().begin(Math.min(k, pool.size()), seed, stage.stage());
        for (int i = 0; i < pool.size(); i++) sel.offer(pool.get(i).key(), i, scores == null ? 0 : scores.scores()[i]);
        int[] chosen = sel.result();
        List<String> ids = new ArrayList<>();
        Map<String, Integer> composition = new TreeMap<>();
        for (int c : chosen) {
            ids.add(pool.get(c).id());
            composition.merge(pool.get(c).source(), 1, Integer::sum);
        }
        Map<String, Integer> poolComposition = new TreeMap<>();
        for (Document d : pool) poolComposition.merge(d.source(), 1, Integer::sum);
        double tau = arm.selector().needsScores() ? cfg.getDouble("selection.tau") : 0;
        String key = StorageLayout.manifestKey(run, stage.arm(), stage.stage());
        objects.put(key, RunArtifacts.json(new SelectionManifest(run, stage.stage(), arm.selector().name(), seed, tau,
                chosen.length, pool.size(), objects.ref(stage.checkpointKey()), fit == null ? null : fit.modelRef(),
                ids, composition)));
        return new SelectionResult(arm.selector().name(), chosen.length, pool.size(), tau, seed, composition,
                poolComposition, objects.ref(key), chosen);
    }

    /** Trains {@code steps} steps on sequences from {@code source}, adding an evaluation every eval.interval steps. */
    private TrainResult trainSteps(Trainer trainer, String label, int steps, Supplier<int[]> source, List<EvalPoint> curve,
                                   double overheadFlops) {
        int batch = cfg.getInt("train.batch_size");
        int context = cfg.getInt("model.context");
        int interval = cfg.getInt("eval.interval");
        if (curve.isEmpty()) curve.add(evaluate(trainer, overheadFlops));
        Progress bar = new Progress(listener, label, steps, "steps");
        double lossSum = 0;
        for (int i = 0; i < steps; i++) {
            int[][] seqs = new int[batch][];
            for (int b = 0; b < batch; b++) seqs[b] = source.get();
            double loss = trainer.trainStep(TokenBatch.ofSequences(seqs));
            lossSum += loss;
            bar.status(String.format(Locale.ROOT, "loss %.3f | %.0f tok/s", loss, (i + 1) / bar.seconds() * batch * context));
            bar.step(1);
            checkCancelled();
            if (trainer.step() % interval == 0 || i == steps - 1) curve.add(evaluate(trainer, overheadFlops));
        }
        EvalPoint last = curve.get(curve.size() - 1);
        double tokensPerSecond = bar.rate() * batch * context;
        bar.done(String.format(Locale.ROOT, "mean train loss %.3f, reference %.4f%s, %.0f tok/s", lossSum / Math.max(1, steps),
                last.referenceLoss(), last.heldoutLoss() != null
                        ? String.format(Locale.ROOT, ", held-out %.4f", last.heldoutLoss()) : "", tokensPerSecond));
        return new TrainResult(steps, lossSum / Math.max(1, steps), tokensPerSecond);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** The curve point at the trainer's step; its FLOPs are the training so far plus {@code overheadFlops}. */
    private EvalPoint evaluate(Trainer trainer, double overheadFlops) {
        int evalBatch = cfg.getInt("eval.batch_size");
        long tokens = trainer.step() * cfg.getInt("train.batch_size") * cfg.getInt("model.context");
        return new EvalPoint(trainer.step(), tokens, Flops.train(trainer.config().parameterCount(), tokens) + overheadFlops,
                trainer.evaluate(reference, evalBatch), heldout == null ? null : trainer.evaluate(heldout, evalBatch));
    }

    /** The artefacts a remote role needs to rebuild this run's model, tokenizer and reference set. */
    private void publishInputs() {
        objects.put(StorageLayout.configKey(run), RunArtifacts.configBytes(cfg));
        objects.put(StorageLayout.tokenizerKey(run), in.tokenizer().toBytes());
        objects.put(StorageLayout.referenceKey(run), RunArtifacts.documentsToJsonl(in.reference()));
    }

    private DataSummary dataSummary(DataPlan plan) {
        return new DataSummary(in.poolDocuments(), in.pool().size(), in.splitDocuments(), in.truncatedDocuments(),
                in.truncatedTokens(), plan.probes().length, plan.probesPerStage(), in.reference().size(), reference.size(),
                reference.countedTokens(), in.heldout().size(), heldout == null ? 0 : heldout.countedTokens(),
                plan.meanTokens(), plan.k(), plan.poolSize(), in.tokenizer().vocabSize());
    }

    private int tokenCount(Document d) {
        return Math.min(cfg.getInt("model.context"), Math.max(1, d.text().length() / 4));
    }

    /** A stage's training data: the selected documents in a seeded shuffle, packed, repeated if they run short. */
    private Supplier<int[]> selectionStream(int[] chosen, int[] candidates, int stage) {
        int[] docs = new int[chosen.length];
        for (int i = 0; i < chosen.length; i++) docs[i] = candidates[chosen[i]];
        // Selection order follows the keys (best first); shuffle so training sees no accidental curriculum.
        int[] perm = DataPlan.shuffled(docs.length, cfg.getLong("seed") * 31 + stage);
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

    /** Writes the trainer's checkpoint (with the data cursor) and returns its key (a folder-like prefix). */
    private String saveCheckpoint(Trainer trainer, Cursor cursor, String arm) {
        Checkpoint c = trainer.checkpoint().withDataCursor(cursor.pos);
        String key = StorageLayout.checkpointKey(run, arm, c.step());
        RunArtifacts.writeCheckpoint(objects, key, c);
        state.put(StorageLayout.stateKey(run), Map.of("checkpoint", objects.ref(key), "arm", arm));
        return key;
    }

    private void phase(String phase, int stage, long step) {
        state.put(StorageLayout.stateKey(run), Map.of("phase", phase, "stage", Integer.toString(stage),
                "step", Long.toString(step), "arm", currentArm));
        listener.phase(phase, currentArm, stage, step);
    }

    private void checkCancelled() {
        if (listener.cancelled()) throw new CancelledException(run);
    }

    /** Position in the training stream; wraps (with a warning) when a long run outgrows the pool. */
    private final class Cursor {
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
                    listener.warn("the pool is exhausted; later stages reuse documents from its start "
                            + "(use a larger --pool or fewer/shorter stages)");
                }
                out[i] = stream[pos++ % stream.length];
            }
            return out;
        }
    }
}
