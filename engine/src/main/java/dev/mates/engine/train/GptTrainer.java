package dev.mates.engine.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link Trainer} for {@link Gpt} on DJL's PyTorch engine with our own AdamW, so the moments are ordinary
 * tensors we can checkpoint, snapshot and restore (DJL's built-in Adam hides them).
 *
 * <p>Every step runs inside an {@link NDScope}: activations, gradients copies and temporaries are freed when
 * it closes, so native memory stays bounded however many steps or probes run.
 */
public final class GptTrainer implements Trainer {
    private final NDManager manager;
    private final Gpt model;
    private final AdamWConfig opt;
    private final List<String> names;
    private final List<NDArray> params;
    private final List<NDArray> m = new ArrayList<>();
    private final List<NDArray> v = new ArrayList<>();
    private final boolean[] decay;
    private long step;
    private List<NDArray[]> snapshot;
    private long snapshotStep;
    private static final ai.djl.ndarray.index.NDIndex ALL = new ai.djl.ndarray.index.NDIndex(":");

    public GptTrainer(GptConfig config, AdamWConfig opt, long seed) {
        this.manager = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
        this.model = new Gpt(config, manager, seed);
        this.opt = opt;
        this.names = new ArrayList<>(model.parameters().keySet());
        this.params = new ArrayList<>(model.parameters().values());
        this.decay = new boolean[params.size()];
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i);
            m.add(manager.zeros(p.getShape()));
            v.add(manager.zeros(p.getShape()));
            // Decay matrices only (nanoGPT/AdamW convention); the position table is a matrix too.
            decay[i] = p.getShape().dimension() == 2;
        }
    }

    @Override
    public GptConfig config() {
        return model.config();
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public double trainStep(TokenBatch batch) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] grads = new NDArray[params.size()];
            double loss = backward(batch, 1.0, grads, true);
            applyAdamW(grads);
            return loss;
        }
    }

    /** Forward + backward of the masked mean loss on {@code batch}; copies of the gradients into {@code out}. */
    private double backward(TokenBatch batch, double scale, NDArray[] out, boolean accumulate) {
        double loss;
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray[] t = tensors(batch);
            NDArray mean = model.loss(t[0], t[1], t[2]);
            loss = mean.getFloat();
            NDArray scaled = scale == 1.0 ? mean : mean.mul(scale);
            gc.backward(scaled);
            for (int i = 0; i < params.size(); i++) {
                NDArray g = params.get(i).getGradient();
                NDArray copy = g.duplicate();
                out[i] = accumulate && out[i] != null ? out[i].add(copy) : copy;
                g.subi(g); // PyTorch accumulates .grad across backward calls: clear it for the next one.
            }
        }
        return loss;
    }

    private double clipScale(NDArray[] grads) {
        NDArray total = null;
        for (NDArray g : grads) {
            NDArray s = g.square().sum();
            total = total == null ? s : total.add(s);
        }
        double norm = Math.sqrt(total.getFloat());
        return opt.clipNorm() > 0 && norm > opt.clipNorm() ? opt.clipNorm() / (norm + 1e-6) : 1.0;
    }

    private void applyAdamW(NDArray[] grads) {
        noGrad();
        double lr = opt.lrAt(step);
        step++;
        double bc1 = 1 - Math.pow(opt.beta1(), step);
        double bc2 = 1 - Math.pow(opt.beta2(), step);
        double clip = clipScale(grads);
        for (int i = 0; i < params.size(); i++) {
            NDArray g = clip == 1.0 ? grads[i] : grads[i].mul(clip);
            NDArray p = params.get(i);
            m.get(i).muli(opt.beta1()).addi(g.mul(1 - opt.beta1()));
            v.get(i).muli(opt.beta2()).addi(g.square().mul(1 - opt.beta2()));
            if (decay[i]) p.muli(1 - lr * opt.weightDecay());
            NDArray denom = v.get(i).div(bc2).sqrt().add(opt.eps());
            p.subi(m.get(i).div(denom).mul(lr / bc1));
        }
    }

    @Override
    public Map<String, float[]> proposedUpdate(TokenBatch batch) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] grads = new NDArray[params.size()];
            backward(batch, 1.0, grads, false);
            double lr = opt.lrAt(step);
            long next = step + 1;
            double bc1 = 1 - Math.pow(opt.beta1(), next);
            double bc2 = 1 - Math.pow(opt.beta2(), next);
            double clip = clipScale(grads);
            Map<String, float[]> out = new LinkedHashMap<>();
            for (int i = 0; i < params.size(); i++) {
                NDArray g = clip == 1.0 ? grads[i] : grads[i].mul(clip);
                NDArray p = params.get(i);
                NDArray mNew = m.get(i).mul(opt.beta1()).add(g.mul(1 - opt.beta1()));
                NDArray vNew = v.get(i).mul(opt.beta2()).add(g.square().mul(1 - opt.beta2()));
                NDArray delta = mNew.div(vNew.div(bc2).sqrt().add(opt.eps())).mul(-lr / bc1);
                if (decay[i]) delta = delta.sub(p.mul(lr * opt.weightDecay()));
                out.put(names.get(i), delta.toFloatArray());
            }
            return out;
        }
    }

    @Override
    public Map<String, float[]> gradient(TokenBatch set, int batchSize) {
        long total = set.countedTokens();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] grads = new NDArray[params.size()];
            for (int from = 0; from < set.size(); from += batchSize) {
                TokenBatch chunk = set.slice(from, Math.min(set.size(), from + batchSize));
                // Weight each chunk's mean by its share of counted targets: the sum is the gradient of the mean.
                backward(chunk, (double) chunk.countedTokens() / Math.max(1, total), grads, true);
            }
            Map<String, float[]> out = new LinkedHashMap<>();
            for (int i = 0; i < params.size(); i++) out.put(names.get(i), grads[i].toFloatArray());
            return out;
        }
    }

    @Override
    public double evaluate(TokenBatch set, int batchSize) {
        double sum = 0;
        double count = 0;
        for (int from = 0; from < set.size(); from += batchSize) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                TokenBatch chunk = set.slice(from, Math.min(set.size(), from + batchSize));
                NDArray[] t = tensors(chunk);
                NDArray[] sums = model.lossSums(t[0], t[1], t[2]);
                sum += sums[0].sum().getFloat();
                count += sums[1].sum().getFloat();
            }
        }
        return count > 0 ? sum / count : Double.NaN;
    }

    private NDArray[] tensors(TokenBatch b) {
        int rows = b.size();
        int t = b.length();
        int[] in = new int[rows * t];
        int[] tg = new int[rows * t];
        float[] mk = new float[rows * t];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(b.inputs()[i], 0, in, i * t, t);
            System.arraycopy(b.targets()[i], 0, tg, i * t, t);
            System.arraycopy(b.mask()[i], 0, mk, i * t, t);
        }
        Shape shape = new Shape(rows, t);
        return new NDArray[] {manager.create(in, shape), manager.create(tg, shape), manager.create(mk, shape)};
    }

    @Override
    public void snapshot() {
        if (snapshot != null) snapshot.forEach(a -> { for (NDArray x : a) x.close(); });
        List<NDArray[]> s = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            s.add(new NDArray[] {detachedCopy(params.get(i)), detachedCopy(m.get(i)), detachedCopy(v.get(i))});
        }
        snapshot = s;
        snapshotStep = step;
    }

    private NDArray detachedCopy(NDArray a) {
        NDArray c = a.duplicate();
        c.setRequiresGradient(false);
        return c;
    }

    @Override
    public void restoreSnapshot() {
        if (snapshot == null) throw new IllegalStateException("restoreSnapshot() before snapshot()");
        for (int i = 0; i < params.size(); i++) {
            NDArray[] s = snapshot.get(i);
            copyInto(params.get(i), s[0]);
            copyInto(m.get(i), s[1]);
            copyInto(v.get(i), s[2]);
        }
        step = snapshotStep;
    }

    /**
     * An in-place tensor copy. NDArray.set(direct buffer) would instead make the tensor alias the buffer, and the
     * next in-place optimizer update would silently corrupt the snapshot.
     */
    private static void copyInto(NDArray target, NDArray source) {
        noGrad();
        target.set(ALL, source);
    }

    /**
     * PyTorch refuses in-place writes to a leaf that requires grad while grad mode is on, and grad mode is per
     * thread (on by default in a fresh thread, e.g. a service's run thread): every in-place update of parameters
     * and moments (optimizer step, restore) first turns it off for the calling thread.
     */
    private static void noGrad() {
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
    }

    @Override
    public Checkpoint checkpoint() {
        Map<String, float[]> w = new LinkedHashMap<>();
        Map<String, float[]> mm = new LinkedHashMap<>();
        Map<String, float[]> vv = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            w.put(names.get(i), params.get(i).toFloatArray());
            mm.put(names.get(i), m.get(i).toFloatArray());
            vv.put(names.get(i), v.get(i).toFloatArray());
        }
        return new Checkpoint(config(), step, 0, w, mm, vv);
    }

    @Override
    public void restore(Checkpoint c) {
        if (!c.config().equals(config())) {
            throw new IllegalArgumentException("checkpoint is for model " + c.config() + ", this run uses " + config());
        }
        for (int i = 0; i < params.size(); i++) {
            String n = names.get(i);
            set(params.get(i), c.weights().get(n), n);
            set(m.get(i), c.adamM().get(n), n);
            set(v.get(i), c.adamV().get(n), n);
        }
        step = c.step();
    }

    /**
     * Copies checkpoint values into a live tensor in place, through a temporary tensor (like restoreSnapshot):
     * NDArray.set(float[]) can alias its buffer and fails on a parameter whose gradient was recorded (first-order
     * probes) with "a view of a leaf Variable that requires grad is being used in an in-place operation".
     */
    private void set(NDArray target, float[] values, String name) {
        if (values == null || values.length != target.size()) {
            throw new IllegalArgumentException("checkpoint tensor '" + name + "' is missing or has the wrong size");
        }
        try (NDArray tmp = manager.create(values, target.getShape())) {
            tmp.setRequiresGradient(false);
            copyInto(target, tmp);
        }
    }

    @Override
    public void close() {
        model.close();
        manager.close();
    }
}
