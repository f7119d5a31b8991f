package dev.mates.engine.oracle;

import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.util.List;

/**
 * The exact probe: from the live state (weights, AdamW moments, learning rate), one optimizer step on x alone,
 * the reference loss, then the state restored from an in-memory snapshot (the reference code reloads the whole
 * checkpoint from disk for every probe; a memory copy gives the same state far faster).
 */
public final class ExactOracle implements OracleProber {
    private final Trainer trainer;
    private final TokenBatch reference;
    private final Tokenizer tokenizer;
    private final int evalBatch;
    private final Listener listener;

    public ExactOracle(Trainer trainer, TokenBatch reference, Tokenizer tokenizer, int evalBatch, Listener listener) {
        this.trainer = trainer;
        this.reference = reference;
        this.tokenizer = tokenizer;
        this.evalBatch = evalBatch;
        this.listener = listener;
    }

    @Override
    public double[] probe(List<Document> probes) {
        double base = trainer.evaluate(reference, evalBatch);
        double[] out = new double[probes.size()];
        trainer.snapshot();
        Progress bar = new Progress(listener, "probing", probes.size(), "probes");
        try {
            for (int i = 0; i < probes.size(); i++) {
                trainer.trainStep(ReferenceSet.single(probes.get(i), tokenizer, trainer.config().context()));
                out[i] = trainer.evaluate(reference, evalBatch) - base;
                trainer.restoreSnapshot();
                bar.step(1);
            }
        } finally {
            trainer.restoreSnapshot();
        }
        bar.done(String.format(java.util.Locale.ROOT, "exact oracle, reference loss %.4f", base));
        return out;
    }
}
