package dev.mates.engine.oracle;

import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.util.List;
import java.util.Map;

/**
 * First-order oracle: I(x) ≈ ∇L_ref · Δθ(x), where Δθ(x) is the AdamW update one step on x would make from the
 * current state. One reference backward per stage, then one forward/backward per probe instead of a reference
 * evaluation. Its agreement with {@link ExactOracle} is measured (Spearman), never assumed.
 */
public final class FirstOrderOracle implements OracleProber {
    private final Trainer trainer;
    private final dev.mates.engine.train.TokenBatch reference;
    private final Tokenizer tokenizer;
    private final int evalBatch;
    private final Listener listener;

    public FirstOrderOracle(Trainer trainer, dev.mates.engine.train.TokenBatch reference, Tokenizer tokenizer,
                            int evalBatch, Listener listener) {
        this.trainer = trainer;
        this.reference = reference;
        this.tokenizer = tokenizer;
        this.evalBatch = evalBatch;
        this.listener = listener;
    }

    @Override
    public double[] probe(List<Document> probes) {
        Map<String, float[]> gRef = trainer.gradient(reference, evalBatch);
        double[] out = new double[probes.size()];
        Progress bar = new Progress(listener, "probing", probes.size(), "probes");
        for (int i = 0; i < probes.size(); i++) {
            Map<String, float[]> delta =
                    trainer.proposedUpdate(ReferenceSet.single(probes.get(i), tokenizer, trainer.config().context()));
            double dot = 0;
            for (var e : delta.entrySet()) {
                float[] g = gRef.get(e.getKey());
                float[] d = e.getValue();
                for (int j = 0; j < d.length; j++) dot += (double) g[j] * d[j];
            }
            out[i] = dot;
            bar.step(1);
        }
        bar.done("first-order oracle");
        return out;
    }
}
