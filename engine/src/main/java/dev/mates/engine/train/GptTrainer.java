package dev.mates.engine.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
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
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] grads = gradientTensors(set, batchSize);
            Map<String, float[]> out = new LinkedHashMap<>();
            for (int i = 0; i < params.size(); i++) out.put(names.get(i), grads[i].toFloatArray());
            return out;
        }
    }

    /** ∇ of the mean loss over every counted target of {@code set}, as tensors of the caller's scope. */
    private NDArray[] gradientTensors(TokenBatch set, int batchSize) {
        long total = set.countedTokens();
        NDArray[] grads = new NDArray[params.size()];
        for (int from = 0; from < set.size(); from += batchSize) {
            TokenBatch chunk = set.slice(from, Math.min(set.size(), from + batchSize));
            // Weight each chunk's mean by its share of counted targets: the sum is the gradient of the mean.
            backward(chunk, (double) chunk.countedTokens() / Math.max(1, total), grads, true);
        }
        return grads;
    }

    @Override
    public FirstOrderInfluence firstOrderInfluence(TokenBatch reference, int batchSize, boolean atDrift) {
        return new Linearisation(reference, batchSize, atDrift);
    }

    /**
     * {@link FirstOrderInfluence} at the live state. With lr, bias corrections bc1, bc2 and weight decay wd of the next
     * step, D = √(β2·v/bc2) + ε (v from the state, the probe's g² left out), the update on x splits into a drift that
     * is the same for every probe, Δ0 = −(lr/bc1)·β1·m/D − lr·wd·θ[decayed], and the probe's part, −b·g_x/D with
     * b = (lr/bc1)·(1−β1). Expanding the reference loss around θ + Δ0 (the point every probe's step starts from, as far
     * as the probe is concerned) or around θ:
     * I(x) ≈ a + ∇L_ref(θ') · (Δθ(x) − Δ0), a = L_ref(θ + Δ0) − L_ref(θ) (at θ' = θ + Δ0) or ∇L_ref(θ) · Δ0 (at θ' = θ).
     * Linearised: I(x) ≈ a − b·(u·g_x) with u = ∇L_ref(θ')/D.
     */
    private final class Linearisation implements FirstOrderInfluence {
        /**
         * RMS of the central-difference step h·u per parameter: large enough that float32 rounding of a row's loss
         * (~1e-7 relative) is small against the change it causes, small enough that the third-order truncation
         * error is negligible (GptTrainerTest checks the result against autograd's directional derivative).
         */
        static final double STEP_RMS = 1e-4;
        private final NDManager held = manager.newSubManager();
        private final NDArray[] gRef;
        private final NDArray[] drift;
        private final NDArray[] u;
        private final double a;
        private final double b;
        private final double h;

        Linearisation(TokenBatch reference, int batchSize, boolean atDrift) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                noGrad();
                double lr = opt.lrAt(step);
                long next = step + 1;
                double bc1 = 1 - Math.pow(opt.beta1(), next);
                double bc2 = 1 - Math.pow(opt.beta2(), next);
                int n = params.size();
                NDArray[] denom = new NDArray[n];
                drift = new NDArray[n];
                for (int i = 0; i < n; i++) {
                    denom[i] = v.get(i).mul(opt.beta2() / bc2).sqrt().add(opt.eps());
                    drift[i] = m.get(i).div(denom[i]).mul(-lr / bc1 * opt.beta1());
                    if (decay[i]) drift[i] = drift[i].sub(params.get(i).mul(lr * opt.weightDecay()));
                }
                if (atDrift) {
                    double base = evaluate(reference, batchSize);
                    NDArray[] saved = new NDArray[n];
                    for (int i = 0; i < n; i++) saved[i] = detachedCopy(params.get(i));
                    try {
                        noGrad();
                        for (int i = 0; i < n; i++) params.get(i).addi(drift[i]);
                        gRef = gradientTensors(reference, batchSize);
                        a = evaluate(reference, batchSize) - base;
                    } finally {
                        for (int i = 0; i < n; i++) copyInto(params.get(i), saved[i]);
                    }
                } else {
                    gRef = gradientTensors(reference, batchSize);
                    double along = 0;
                    for (int i = 0; i < n; i++) along += dot(gRef[i], drift[i]);
                    a = along;
                }
                noGrad();
                u = new NDArray[n];
                double uNorm2 = 0;
                long count = 0;
                for (int i = 0; i < n; i++) {
                    u[i] = gRef[i].div(denom[i]);
                    uNorm2 += dot(u[i], u[i]);
                    count += u[i].size();
                }
                b = lr / bc1 * (1 - opt.beta1());
                h = uNorm2 > 0 ? STEP_RMS * Math.sqrt(count / uNorm2) : 0;
                for (int i = 0; i < n; i++) {
                    keep(gRef[i]);
                    keep(drift[i]);
                    keep(u[i]);
                }
            }
        }

        private void keep(NDArray x) {
            NDScope.unregister(x);
            x.attach(held);
        }

        @Override
        public double adamW(TokenBatch probe) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray[] grads = new NDArray[params.size()];
                backward(probe, 1.0, grads, false);
                noGrad();
                double lr = opt.lrAt(step);
                long next = step + 1;
                double bc1 = 1 - Math.pow(opt.beta1(), next);
                double bc2 = 1 - Math.pow(opt.beta2(), next);
                double clip = clipScale(grads);
                double total = a;
                for (int i = 0; i < params.size(); i++) {
                    NDArray g = clip == 1.0 ? grads[i] : grads[i].mul(clip);
                    NDArray mNew = m.get(i).mul(opt.beta1()).add(g.mul(1 - opt.beta1()));
                    NDArray vNew = v.get(i).mul(opt.beta2()).add(g.square().mul(1 - opt.beta2()));
                    NDArray delta = mNew.div(vNew.div(bc2).sqrt().add(opt.eps())).mul(-lr / bc1);
                    if (decay[i]) delta = delta.sub(params.get(i).mul(lr * opt.weightDecay()));
                    total += dot(gRef[i], delta.sub(drift[i]));
                }
                return total;
            }
        }

        @Override
        public double[] linearised(TokenBatch rows, int batchSize) {
            double[] d = directionalDerivatives(rows, batchSize);
            double[] out = new double[d.length];
            for (int i = 0; i < d.length; i++) out[i] = a - b * d[i];
            return out;
        }

        @Override
        public double[] directionalDerivatives(TokenBatch rows, int batchSize) {
            double[] out = new double[rows.size()];
            if (h == 0) return out;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                noGrad();
                NDArray[] saved = new NDArray[params.size()];
                for (int i = 0; i < params.size(); i++) saved[i] = detachedCopy(params.get(i));
                try {
                    shift(h);
                    double[] plus = rowLosses(rows, batchSize);
                    shift(-2 * h);
                    double[] minus = rowLosses(rows, batchSize);
                    for (int r = 0; r < out.length; r++) out[r] = (plus[r] - minus[r]) / (2 * h);
                } finally {
                    // Put the weights back bit for bit (θ + h·u − 2h·u + h·u is not θ in float32).
                    for (int i = 0; i < params.size(); i++) copyInto(params.get(i), saved[i]);
                }
            }
            return out;
        }

        private void shift(double by) {
            for (int i = 0; i < params.size(); i++) params.get(i).addi(u[i].mul(by));
        }

        @Override
        public Map<String, float[]> direction() {
            Map<String, float[]> out = new LinkedHashMap<>();
            for (int i = 0; i < params.size(); i++) out.put(names.get(i), u[i].toFloatArray());
            return out;
        }

        @Override
        public void close() {
            held.close();
        }
    }

    private static double dot(NDArray x, NDArray y) {
        return x.toType(DataType.FLOAT64, false).mul(y.toType(DataType.FLOAT64, false)).sum().getDouble();
    }

    /** Mean loss of each row of {@code rows} over its counted targets, {@code batchSize} rows per forward pass. */
    private double[] rowLosses(TokenBatch rows, int batchSize) {
        double[] out = new double[rows.size()];
        for (int from = 0; from < rows.size(); from += batchSize) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                int to = Math.min(rows.size(), from + batchSize);
                NDArray[] t = tensors(rows.slice(from, to));
                NDArray[] sums = model.lossSums(t[0], t[1], t[2]);
                double[] s = sums[0].toType(DataType.FLOAT64, false).toDoubleArray();
                float[] c = sums[1].toFloatArray();
                for (int r = 0; r < to - from; r++) out[from + r] = c[r] > 0 ? s[r] / c[r] : 0;
            }
        }
        return out;
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
