package dev.mates.cli;

import dev.mates.engine.data.ByteBpeTokenizer;
import dev.mates.engine.data.CorpusReader;
import dev.mates.engine.data.DemoCorpus;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.Packer;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.oracle.DirectionalOracle;
import dev.mates.engine.oracle.ExactOracle;
import dev.mates.engine.oracle.FirstOrderOracle;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.oracle.ReferenceSet;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.score.BatchedScorer;
import dev.mates.engine.select.GumbelTopKSelector;
import dev.mates.engine.select.Selection;
import dev.mates.engine.train.GptConfig;
import dev.mates.engine.train.GptTrainer;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.util.Correlation;
import dev.mates.engine.util.Listener;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mates bench}: the speed figures of docs/benchmarks.md, as medians of {@code --repeats} runs, each with
 * its target. Quality (MATES vs random) is a separate, longer benchmark: {@code mates run} over several seeds.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure training, probing, scoring and selection speed.")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--repeats", description = "Runs per figure; the median is reported (default: ${DEFAULT-VALUE}).")
    int repeats = 3;

    @Option(names = "--only", description = "Comma-separated subset: train,probe,score,select (default: all).")
    String only = "train,probe,score,select";

    @Option(names = "--scores", description = "Number of scores for the Gumbel-top-k figure (default: ${DEFAULT-VALUE}).")
    long scores = 10_000_000L;

    @Option(names = "--probes", description = "Probes per checkpoint for the oracle figures (default: ${DEFAULT-VALUE}).")
    int probeCount = 200;

    private final List<String> lines = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("mates-bench");
        DemoCorpus.Files demo = DemoCorpus.build(dir, 1, 400, 64, 32);
        List<Document> pool = new CorpusReader("pool", new Rejects(null), null).readFirst(List.of(demo.pool().toString()), 30000);
        List<Document> ref = new CorpusReader("reference", new Rejects(null), null).readAll(List.of(demo.reference().toString()));
        List<String> sample = new ArrayList<>();
        for (int i = 0; i < Math.min(4000, pool.size()); i++) sample.add(pool.get(i).text());
        Tokenizer tok = ByteBpeTokenizer.train(sample, 2048);
        System.out.printf(Locale.ROOT, "machine: %d cores, %s, Java %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.arch"), System.getProperty("java.version"));
        if (only.contains("train")) train(pool, tok);
        if (only.contains("probe")) probe(pool, ref, tok);
        if (only.contains("score")) score(pool);
        if (only.contains("select")) select();
        System.out.println();
        lines.forEach(System.out::println);
        return 0;
    }

    private void report(String what, double median, String unit, double target, String extra) {
        String verdict = Double.isNaN(target) ? "" : (median >= target ? "  (target ≥ " + fmt(target) + ": met)" : "  (target ≥ " + fmt(target) + ": NOT met)");
        String line = String.format(Locale.ROOT, "%-38s %12s %-10s%s%s", what, fmt(median), unit, verdict, extra);
        lines.add(line);
        System.out.println(line);
    }

    private static String fmt(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%,.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private void train(List<Document> pool, Tokenizer tok) {
        GptConfig cfg = GptConfig.preset("tiny", tok.vocabSize(), 128);
        int batch = 16;
        Packer packer = new Packer(128, tok.eosId());
        List<int[]> seqs = new ArrayList<>();
        for (int i = 0; seqs.size() < batch * 20 && i < pool.size(); i++) {
            packer.add(tok.encode(pool.get(i).text()));
            while (packer.ready()) seqs.add(packer.next());
        }
        double[] rates = new double[repeats];
        try (GptTrainer t = new GptTrainer(cfg, RunConfig.defaults(false).optimizer(), 1)) {
            for (int w = 0; w < 3; w++) t.trainStep(TokenBatch.ofSequences(seqs.subList(0, batch).toArray(int[][]::new)));
            for (int r = 0; r < repeats; r++) {
                int steps = 10;
                long t0 = System.nanoTime();
                for (int s = 0; s < steps; s++) {
                    int from = (s * batch) % (seqs.size() - batch);
                    t.trainStep(TokenBatch.ofSequences(seqs.subList(from, from + batch).toArray(int[][]::new)));
                }
                rates[r] = steps * batch * 128 / ((System.nanoTime() - t0) / 1e9);
            }
        }
        report("train tokens/s (tiny, 16x128, V" + tok.vocabSize() + ")", median(rates), "tokens/s", 7000, "");
    }

    /** An oracle under test: a name for the table and how to build it at the trainer's state. */
    private record OracleVariant(String name, String how, java.util.function.Function<GptTrainer, OracleProber> make) {}

    /**
     * Every oracle against the exact one on the same probes, at the demo's checkpoints: the end of the warm-up and two
     * stages later. Speed is probes/s including each oracle's once-per-state work (the reference gradient), and its
     * ratio to exact at the same checkpoint; fidelity is the Spearman against exact. Medians over the checkpoints.
     */
    private void probe(List<Document> pool, List<Document> ref, Tokenizer tok) {
        RunConfig d = RunConfig.defaults(false);
        GptConfig cfg = d.model(tok.vocabSize());
        int context = cfg.context();
        int evalBatch = d.getInt("oracle.eval_batch");
        TokenBatch reference = ReferenceSet.batch(ref.subList(0, Math.min(d.getInt("demo.reference_docs"), ref.size())), tok, context);
        List<OracleVariant> variants = List.of(
                new OracleVariant("first-order", "true AdamW step, expanded at θ+Δ0",
                        t -> new FirstOrderOracle(t, reference, tok, evalBatch, Listener.QUIET, true)),
                new OracleVariant("first-order@θ", "true AdamW step, expanded at θ",
                        t -> new FirstOrderOracle(t, reference, tok, evalBatch, Listener.QUIET, false)),
                new OracleVariant("directional", "linearised AdamW, expanded at θ+Δ0",
                        t -> new DirectionalOracle(t, reference, tok, evalBatch, Listener.QUIET, true)),
                new OracleVariant("directional@θ", "linearised AdamW, expanded at θ",
                        t -> new DirectionalOracle(t, reference, tok, evalBatch, Listener.QUIET, false)));
        int[] checkpoints = {d.getInt("mates.warmup_steps"), d.getInt("mates.warmup_steps") + 2 * d.getInt("mates.stage_steps"),
            d.getInt("mates.warmup_steps") + 4 * d.getInt("mates.stage_steps")};
        double[] exactRate = new double[checkpoints.length];
        double[][] rate = new double[variants.size()][checkpoints.length];
        double[][] speedup = new double[variants.size()][checkpoints.length];
        double[][] rho = new double[variants.size()][checkpoints.length];
        int batch = d.getInt("train.batch_size");
        try (GptTrainer t = new GptTrainer(cfg, d.optimizer(), 1)) {
            Packer packer = new Packer(context, tok.eosId());
            int next = 0;
            for (int c = 0; c < checkpoints.length; c++) {
                while (t.step() < checkpoints[c]) {
                    int[][] b = new int[batch][];
                    for (int i = 0; i < batch; i++) {
                        while (!packer.ready()) packer.add(tok.encode(pool.get(next++ % pool.size()).text()));
                        b[i] = packer.next();
                    }
                    t.trainStep(TokenBatch.ofSequences(b));
                }
                // Fresh probes at every checkpoint, never trained on: the far end of the pool.
                List<Document> probes = pool.subList(pool.size() - (c + 1) * probeCount, pool.size() - c * probeCount);
                long t0 = System.nanoTime();
                double[] exact = new ExactOracle(t, reference, tok, evalBatch, Listener.QUIET).probe(probes);
                exactRate[c] = probes.size() / ((System.nanoTime() - t0) / 1e9);
                for (int v = 0; v < variants.size(); v++) {
                    t0 = System.nanoTime();
                    double[] got;
                    try (OracleProber o = variants.get(v).make().apply(t)) {
                        got = o.probe(probes);
                    }
                    rate[v][c] = probes.size() / ((System.nanoTime() - t0) / 1e9);
                    speedup[v][c] = rate[v][c] / exactRate[c];
                    rho[v][c] = Correlation.spearman(exact, got);
                }
                System.out.printf(Locale.ROOT, "  probes at step %d: exact %.1f/s%n", t.step(), exactRate[c]);
            }
        }
        String where = String.format(Locale.ROOT, "%d probes at steps %s, ref %dx%d", probeCount,
                Arrays.toString(checkpoints).replace(" ", ""), reference.size(), reference.length());
        report("oracle exact probes/s (" + where + ")", median(exactRate), "probes/s", 5, "  1.0x exact, Spearman 1 (ground truth)");
        for (int v = 0; v < variants.size(); v++) {
            OracleVariant o = variants.get(v);
            boolean target = o.name().equals("directional");
            double up = median(speedup[v]);
            double r = median(rho[v]);
            String verdict = target ? String.format(Locale.ROOT, "  [target ≥ 100x at Spearman ≥ 0.9: %s]",
                    up >= 100 && r >= 0.9 ? "met" : "NOT met") : "";
            report("oracle " + o.name() + " probes/s", median(rate[v]), "probes/s", Double.NaN,
                    String.format(Locale.ROOT, "  %.1fx exact, Spearman vs exact %.3f (min %.3f, max %.3f) — %s%s", up, r,
                            Arrays.stream(rho[v]).min().orElse(Double.NaN), Arrays.stream(rho[v]).max().orElse(Double.NaN),
                            o.how(), verdict));
        }
    }

    private void score(List<Document> pool) {
        // ~128 MiniLM tokens: join chunks up to ~600 characters.
        List<Document> docs = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        for (Document d : pool) {
            sb.append(d.text()).append(' ');
            if (sb.length() >= 600) {
                docs.add(new Document("b" + docs.size(), sb.substring(0, 600)));
                sb.setLength(0);
            }
        }
        double[] labels = new double[200];
        for (int i = 0; i < labels.length; i++) labels[i] = docs.get(i).text().contains(" the ") ? -1 : 1;
        for (String backbone : List.of("ngram", "minilm-int8", "minilm-fp32")) {
            InfluenceModel m = InfluenceModels.create(backbone, 1);
            m.fit(docs.subList(0, 200), labels, 1);
            int n = backbone.equals("ngram") ? Math.min(docs.size(), 20000) : 320;
            double[] rates = new double[repeats];
            for (int r = 0; r < repeats; r++) {
                List<Document> batch = new ArrayList<>();
                // Fresh ids every repeat so no embedding cache can serve them.
                for (int i = 0; i < n; i++) batch.add(new Document("r" + r + "-" + i, docs.get((i + 200) % docs.size()).text()));
                BatchedScorer s = new BatchedScorer(m, 32);
                long t0 = System.nanoTime();
                s.score(batch);
                rates[r] = n / ((System.nanoTime() - t0) / 1e9);
            }
            double target = switch (backbone) {
                case "ngram" -> 10000;
                case "minilm-int8" -> 130;
                default -> Double.NaN;
            };
            report("scoring docs/s " + backbone + " (~128 tok)", median(rates), "docs/s", target, "");
            if (m instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // best effort: the bench is ending
                }
            }
        }
    }

    private void select() {
        int k = 100_000;
        double[] rates = new double[repeats];
        long[] heapSmall = new long[1];
        long[] heapLarge = new long[1];
        for (long n : new long[] {scores / 10, scores}) {
            for (int r = 0; r < repeats; r++) {
                System.gc();
                long before = usedHeap();
                Selection sel = new GumbelTopKSelector(1.0).begin(k, 7, 1);
                long x = 0x9E3779B97F4A7C15L;
                long t0 = System.nanoTime();
                for (long i = 0; i < n; i++) {
                    x += 0x9E3779B97F4A7C15L;
                    double score = ((x >>> 11) * 0x1.0p-53) * 4 - 2;
                    sel.offer(x, (int) i, score);
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                // Retained memory: collect garbage while the accumulator is still reachable.
                System.gc();
                long after = usedHeap();
                if (sel.result().length != k) throw new IllegalStateException("selection returned the wrong k");
                if (n == scores) {
                    rates[r] = n / secs;
                    heapLarge[0] = Math.max(heapLarge[0], after - before);
                } else {
                    heapSmall[0] = Math.max(heapSmall[0], after - before);
                }
            }
        }
        report(String.format(Locale.ROOT, "Gumbel-top-k scores/s (%,d scores, k %,d)", scores, k), median(rates), "scores/s", 20e6,
                String.format(Locale.ROOT, "  retained heap %.1f MB at %,d scores vs %.1f MB at %,d", heapLarge[0] / 1e6, scores,
                        heapSmall[0] / 1e6, scores / 10));
    }

    private static long usedHeap() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
