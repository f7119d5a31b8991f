package dev.mates.engine.pipeline;

import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.oracle.DirectionalOracle;
import dev.mates.engine.oracle.ExactOracle;
import dev.mates.engine.oracle.FirstOrderOracle;
import dev.mates.engine.oracle.OracleMethod;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.score.BatchedScorer;
import dev.mates.engine.score.Scorer;
import dev.mates.engine.train.GptTrainer;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import dev.mates.engine.util.Listener;

/** The single-machine wiring: every role is a local object in this process. */
public final class EmbeddedRoles implements Roles {
    private final RunConfig cfg;
    private final Tokenizer tokenizer;
    private final Listener listener;

    public EmbeddedRoles(RunConfig cfg, Tokenizer tokenizer, Listener listener) {
        this.cfg = cfg;
        this.tokenizer = tokenizer;
        this.listener = listener;
    }

    /** The factory {@link MatesRun} uses for an embedded run. */
    public static Roles.Factory factory(RunConfig cfg, Listener listener) {
        return inputs -> new EmbeddedRoles(cfg, inputs.tokenizer(), listener);
    }

    @Override
    public Trainer trainer() {
        return new GptTrainer(cfg.model(tokenizer.vocabSize()), cfg.optimizer(), cfg.getLong("seed"));
    }

    @Override
    public OracleProber oracle(Trainer trainer, TokenBatch reference, OracleMethod method, Stage stage) {
        int evalBatch = cfg.getInt("oracle.eval_batch");
        return switch (method) {
            case EXACT -> new ExactOracle(trainer, reference, tokenizer, evalBatch, listener);
            case FIRST_ORDER -> new FirstOrderOracle(trainer, reference, tokenizer, evalBatch, listener);
            case DIRECTIONAL -> new DirectionalOracle(trainer, reference, tokenizer, evalBatch, listener);
        };
    }

    @Override
    public InfluenceModel influenceModel(Stage stage) {
        return InfluenceModels.create(cfg.get("influence.backbone"), cfg.getLong("seed") * 1000 + stage.stage());
    }

    @Override
    public Scorer scorer(InfluenceModel model, Stage stage) {
        return new BatchedScorer(model, 64, listener);
    }
}
