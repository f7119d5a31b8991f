package dev.mates.engine.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A GPT-2 style decoder, read top to bottom: token + position embeddings, pre-norm blocks of causal
 * self-attention and a GELU MLP, a final norm and an output head tied to the token embedding.
 *
 * <p>Parameters are plain named NDArrays owned by this object's manager, so checkpoints, snapshots and the
 * optimizer see exactly the same tensors. Activations are created by the caller's scope and freed with it.
 * Shapes: tokens (B, T) int32 → logits (B, T, V) float32.
 */
public final class Gpt implements AutoCloseable {
    private final GptConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    private final NDArray causalMask;

    public Gpt(GptConfig config, NDManager parent, long seed) {
        this.config = config;
        this.manager = parent.newSubManager();
        int d = config.dModel();
        // GPT-2 init: N(0, 0.02), residual projections scaled by 1/sqrt(2L) so the residual stream keeps its scale.
        SplittableRandom rng = new SplittableRandom(seed);
        double residualStd = 0.02 / Math.sqrt(2.0 * config.nLayers());
        add("wte", normal(rng, 0.02, config.vocabSize(), d));
        add("wpe", normal(rng, 0.01, config.context(), d));
        for (int l = 0; l < config.nLayers(); l++) {
            String p = "h" + l + ".";
            add(p + "ln1.g", constant(1f, d));
            add(p + "ln1.b", constant(0f, d));
            add(p + "attn.qkv.w", normal(rng, 0.02, 3 * d, d));
            add(p + "attn.qkv.b", constant(0f, 3 * d));
            add(p + "attn.proj.w", normal(rng, residualStd, d, d));
            add(p + "attn.proj.b", constant(0f, d));
            add(p + "ln2.g", constant(1f, d));
            add(p + "ln2.b", constant(0f, d));
            add(p + "mlp.fc.w", normal(rng, 0.02, 4 * d, d));
            add(p + "mlp.fc.b", constant(0f, 4 * d));
            add(p + "mlp.proj.w", normal(rng, residualStd, d, 4 * d));
            add(p + "mlp.proj.b", constant(0f, d));
        }
        add("lnf.g", constant(1f, d));
        add("lnf.b", constant(0f, d));
        int t = config.context();
        float[] mask = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) mask[i * t + j] = -1e9f;
        }
        causalMask = manager.create(mask, new Shape(t, t));
    }

    public GptConfig config() {
        return config;
    }

    /** Parameters in a fixed order; the optimizer and checkpoints rely on it. */
    public Map<String, NDArray> parameters() {
        return params;
    }

    public NDManager manager() {
        return manager;
    }

    /** tokens (B, T) int32 → logits (B, T, V). */
    public NDArray forward(NDArray tokens) {
        long b = tokens.getShape().get(0);
        int t = (int) tokens.getShape().get(1);
        int d = config.dModel();
        NDArray pos = tokens.getManager().arange(t);
        NDArray x = embed(tokens, p("wte")).add(embed(pos, p("wpe")));
        for (int l = 0; l < config.nLayers(); l++) {
            String pre = "h" + l + ".";
            x = x.add(attention(norm(x, pre + "ln1"), pre, b, t));
            NDArray h = linear(norm(x, pre + "ln2"), pre + "mlp.fc");
            x = x.add(linear(Activation.gelu(h), pre + "mlp.proj"));
        }
        x = norm(x, "lnf");
        return x.reshape(b * t, d).matMul(p("wte").transpose()).reshape(b, t, config.vocabSize());
    }

    /**
     * Mean next-token negative log-likelihood. {@code mask} (B, T) float selects the target positions that count
     * (padding and, for LAMBADA-style references, every non-target token get 0); null = all positions.
     */
    public NDArray loss(NDArray inputs, NDArray targets, NDArray mask) {
        NDArray logp = forward(inputs).logSoftmax(-1);
        NDArray nll = logp.gather(targets.toType(DataType.INT64, false).expandDims(-1), -1).squeeze(-1).neg();
        if (mask == null) return nll.mean();
        return nll.mul(mask).sum().div(mask.sum().maximum(1f));
    }

    /** Per-sequence summed NLL and target counts, for exact averages over uneven batches. */
    public NDArray[] lossSums(NDArray inputs, NDArray targets, NDArray mask) {
        NDArray logp = forward(inputs).logSoftmax(-1);
        NDArray nll = logp.gather(targets.toType(DataType.INT64, false).expandDims(-1), -1).squeeze(-1).neg();
        return new NDArray[] {nll.mul(mask).sum(new int[] {1}), mask.sum(new int[] {1})};
    }

    private NDArray attention(NDArray x, String pre, long b, int t) {
        int h = config.nHeads();
        int hd = config.headDim();
        int d = config.dModel();
        NDArray qkv = linear(x, pre + "attn.qkv").reshape(b, t, 3, h, hd).transpose(2, 0, 3, 1, 4);
        NDArray q = qkv.get(0);
        NDArray k = qkv.get(1);
        NDArray v = qkv.get(2);
        NDArray mask = t == config.context() ? causalMask : causalMask.get(":" + t + ", :" + t);
        NDArray att = q.matMul(k.transpose(0, 1, 3, 2)).mul(1.0 / Math.sqrt(hd)).add(mask).softmax(-1);
        NDArray y = att.matMul(v).transpose(0, 2, 1, 3).reshape(b, t, d);
        return linear(y, pre + "attn.proj");
    }

    private NDArray linear(NDArray x, String name) {
        return Linear.linear(x, p(name + ".w"), p(name + ".b")).singletonOrThrow();
    }

    private NDArray norm(NDArray x, String name) {
        return LayerNorm.layerNorm(x, new Shape(config.dModel()), p(name + ".g"), p(name + ".b"), 1e-5f)
                .singletonOrThrow();
    }

    private static NDArray embed(NDArray ids, NDArray table) {
        return ai.djl.nn.core.Embedding.embedding(ids, table, ai.djl.ndarray.types.SparseFormat.DENSE).singletonOrThrow();
    }

    private NDArray p(String name) {
        return params.get(name);
    }

    private void add(String name, NDArray a) {
        a.setName(name);
        a.setRequiresGradient(true);
        params.put(name, a);
    }

    private NDArray normal(SplittableRandom rng, double std, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (gaussian(rng) * std);
        return manager.create(w, new Shape(rows, cols));
    }

    private NDArray constant(float value, int n) {
        float[] w = new float[n];
        java.util.Arrays.fill(w, value);
        return manager.create(w, new Shape(n));
    }

    private static double gaussian(SplittableRandom rng) {
        // Box-Muller on our own generator: identical weights on every JVM for a given seed.
        double u1 = rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(Math.max(u1, 1e-300))) * Math.cos(2 * Math.PI * u2);
    }

    @Override
    public void close() {
        manager.close();
    }
}
