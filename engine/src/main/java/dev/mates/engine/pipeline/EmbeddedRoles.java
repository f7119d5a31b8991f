package dev.mates.engine.pipeline;

import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.oracle.ExactOracle;
import dev.mates.engine.oracle.FirstOrderOracle;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.score.BatchedScorer;
import dev.mates.engine.score.Scorer;
import dev.mates.engine.select.GumbelTopKSelector;
import dev.mates.engine.select.RandomSelector;
import dev.mates.engine.select.Selector;
import dev.mates.engine.select.TopKSelector;
import dev.mates.engine.train.AdamWConfig;
import dev.mates.engine.train.GptConfig;
import dev.mates.engine.train.GptTrainer;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;
import java.util.List;

/** The single-machine wiring: every role is a local object in this process. */
public final class EmbeddedRoles implements Pipeline.Roles {
    /** Selector names accepted by {@code --selector} / {@code --baseline}. */
    public static final List<String> SELECTORS = List.of("mates", "random", "topk");

    private final RunConfig cfg;
    private final Tokenizer tokenizer;

    public EmbeddedRoles(RunConfig cfg, Tokenizer tokenizer) {
        this.cfg = cfg;
        this.tokenizer = tokenizer;
    }

    @Override
    public Trainer trainer() {
        GptConfig model = GptConfig.preset(cfg.get("model.preset"), tokenizer.vocabSize(), cfg.getInt("model.context"));
        AdamWConfig opt = new AdamWConfig(cfg.getDouble("train.lr"), 0.9, 0.95, 1e-8, cfg.getDouble("train.weight_decay"),
                cfg.getDouble("train.clip_norm"), cfg.getInt("train.lr_warmup_steps"));
        return new GptTrainer(model, opt, cfg.getLong("seed"));
    }

    @Override
    public OracleProber oracle(Trainer trainer, TokenBatch reference, String method, Pipeline.Stage stage) {
        int evalBatch = cfg.getInt("oracle.eval_batch");
        return method.equals("first-order") ? new FirstOrderOracle(trainer, reference, tokenizer, evalBatch)
                : new ExactOracle(trainer, reference, tokenizer, evalBatch);
    }

    @Override
    public InfluenceModel influenceModel(Pipeline.Stage stage) {
        return InfluenceModels.create(cfg.get("influence.backbone"), cfg.getLong("seed") * 1000 + stage.stage());
    }

    @Override
    public Scorer scorer(InfluenceModel model, Pipeline.Stage stage) {
        return new BatchedScorer(model, 64);
    }

    @Override
    public Selector selector(String name) {
        return switch (name) {
            case "mates" -> new GumbelTopKSelector(cfg.getDouble("selection.tau"));
            case "random" -> new RandomSelector();
            case "topk" -> new TopKSelector();
            default -> throw new IllegalArgumentException("--selector: unknown selector '" + name + "'; choose one of " + SELECTORS);
        };
    }
}
