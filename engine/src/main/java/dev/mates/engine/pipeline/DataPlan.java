package dev.mates.engine.pipeline;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The data discipline of a run, fixed before training starts: one shuffle of the pool by seed; its first
 * {@code stages × probes} documents are the probe set (never trained on, never candidates), the rest is a stream
 * consumed once — warm-up data, then one fresh candidate pool per stage. Every arm walks the same stream from the
 * same position, so every arm sees the same candidate pools. Indices are into {@link RunInputs#pool()}.
 *
 * @param probes the probe set, {@code probesPerStage} per stage in order
 * @param stream the training stream
 * @param k documents selected per stage: as many as fill the stage's tokens
 * @param poolSize candidates per stage: {@code k × selection.pool_multiplier}
 */
public record DataPlan(int[] probes, int[] stream, int probesPerStage, int k, int poolSize, double meanTokens) {

    /** {@code probing}: whether any arm of the run needs probes (random-only runs train on the whole pool). */
    public static DataPlan of(RunConfig cfg, RunInputs in, boolean probing) {
        int stages = cfg.getInt("mates.stages");
        int probes = cfg.getInt("oracle.probes");
        int[] order = shuffled(in.pool().size(), cfg.getLong("seed"));
        int probeTotal = probing ? Math.min(stages * probes, in.pool().size() / 5) : 0;
        int[] stream = Arrays.copyOfRange(order, probeTotal, order.length);
        double meanTokens = Arrays.stream(stream).mapToDouble(i -> in.poolTokens()[i].length + 1).average().orElse(1);
        long tokensPerStage = (long) cfg.getInt("mates.stage_steps") * cfg.getInt("train.batch_size") * cfg.getInt("model.context");
        int k = (int) Math.max(1, Math.ceil(tokensPerStage / meanTokens));
        int poolSize = (int) Math.ceil(k * cfg.getDouble("selection.pool_multiplier"));
        return new DataPlan(Arrays.copyOfRange(order, 0, probeTotal), stream, probes, k, poolSize, meanTokens);
    }

    /** The probes of stage {@code s} (1-based); fewer, or none, when the probe set ran short. */
    public int[] probesOf(int s) {
        return Arrays.copyOfRange(probes, Math.min(probes.length, (s - 1) * probesPerStage),
                Math.min(probes.length, s * probesPerStage));
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
