package dev.mates.engine.pipeline;

import dev.mates.engine.data.DataException;
import dev.mates.engine.util.Listener;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The data discipline of a run, fixed before training starts: one shuffle of the pool's data points by seed; walking
 * it, the probe set takes whole documents (every piece of a long document: a probe's siblings can be neither candidates
 * nor trained on, so taking them as probes too costs the stream one document, not one per probe) until it holds
 * {@code stages × probes}, shuffled again so each stage gets a mix; the rest is a stream consumed once — warm-up data, then one fresh candidate pool per stage. Every arm
 * walks the same stream from the same position, so every arm sees the same candidate pools. Indices are into
 * {@link RunInputs#pool()}.
 *
 * @param probes the probe set, {@code probesPerStage} per stage in order
 * @param stream the training stream
 * @param k data points selected per stage: as many as fill the stage's tokens
 * @param poolSize candidates per stage: {@code k × selection.pool_multiplier}
 */
public record DataPlan(int[] probes, int[] stream, int probesPerStage, int k, int poolSize, double meanTokens) {
    /** Fewer labels than this and the influence model cannot be fitted (a 90/10 split needs a few of each). */
    static final int MIN_PROBES_PER_STAGE = 4;

    /**
     * {@code probing}: whether any arm of the run needs probes (random-only runs train on the whole pool). A pool
     * too small for the configured probes gives every stage an equal share (at most a fifth of the pool is probed),
     * with a warning; one too small for {@value #MIN_PROBES_PER_STAGE} probes per stage is refused here, before any
     * training, with the numbers and what to change.
     */
    public static DataPlan of(RunConfig cfg, RunInputs in, boolean probing, Listener listener) {
        int stages = cfg.getInt("mates.stages");
        int probes = cfg.getInt("oracle.probes");
        int n = in.pool().size();
        int[] order = shuffled(n, cfg.getLong("seed"));
        int perStage = 0;
        if (probing) {
            perStage = Math.min(probes, Math.min(stages * probes, n / 5) / stages);
            if (perStage < MIN_PROBES_PER_STAGE) {
                throw new DataException(String.format(Locale.ROOT, "--pool: %d data points are too few for %d stages: at most "
                        + "a fifth of the pool is probed, and each stage needs at least %d probes to fit its influence model "
                        + "(%d data points at least); use a larger --pool or fewer mates.stages", n, stages,
                        MIN_PROBES_PER_STAGE, 5 * MIN_PROBES_PER_STAGE * stages));
            }
            if (perStage < probes) {
                listener.warn(String.format(Locale.ROOT, "the pool has %d data points, so at most %d are probed (a fifth): "
                        + "each of the %d stages gets %d probes instead of oracle.probes = %d", n, n / 5, stages, perStage, probes));
            }
        }
        int probeTotal = perStage * stages;
        int[] docOf = in.poolDocument();
        Map<Integer, List<Integer>> pieces = new HashMap<>();
        for (int i = 0; i < n; i++) pieces.computeIfAbsent(docOf[i], d -> new ArrayList<>()).add(i);
        Set<Integer> probeDocuments = new HashSet<>();
        int[] probeSet = new int[probeTotal];
        int taken = 0;
        for (int j = 0; j < n && taken < probeTotal; j++) {
            if (!probeDocuments.add(docOf[order[j]])) continue;
            for (int p : pieces.get(docOf[order[j]])) if (taken < probeTotal) probeSet[taken++] = p;
        }
        int[] mix = shuffled(probeTotal, cfg.getLong("seed") * 7 + 1);
        int[] probeOrder = new int[probeTotal];
        for (int i = 0; i < probeTotal; i++) probeOrder[i] = probeSet[mix[i]];
        int[] stream = Arrays.stream(order).filter(i -> !probeDocuments.contains(docOf[i])).toArray();
        double meanTokens = Arrays.stream(stream).mapToDouble(i -> in.poolTokens()[i].length + 1).average().orElse(1);
        int batchTokens = cfg.getInt("train.batch_size") * cfg.getInt("model.context");
        long tokensPerStage = (long) cfg.getInt("mates.stage_steps") * batchTokens;
        int k = (int) Math.max(1, Math.ceil(tokensPerStage / meanTokens));
        int poolSize = (int) Math.ceil(k * cfg.getDouble("selection.pool_multiplier"));
        long warmupPoints = (long) Math.ceil((double) cfg.getInt("mates.warmup_steps") * batchTokens / meanTokens);
        long needed = warmupPoints + (long) stages * poolSize;
        if (stream.length < needed) {
            listener.warn(String.format(Locale.ROOT, "the training stream has %d data points but the run consumes about %d "
                    + "(warm-up %d, then %d stages × %d candidates): later stages will reuse data points; use a larger "
                    + "--pool, fewer or shorter stages, or a smaller selection.pool_multiplier", stream.length, needed,
                    warmupPoints, stages, poolSize));
        }
        return new DataPlan(probeOrder, stream, perStage, k, poolSize, meanTokens);
    }

    /** The probes of stage {@code s} (1-based). */
    public int[] probesOf(int s) {
        return Arrays.copyOfRange(probes, (s - 1) * probesPerStage, s * probesPerStage);
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
}
