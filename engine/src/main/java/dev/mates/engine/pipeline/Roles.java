package dev.mates.engine.pipeline;

import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.oracle.OracleMethod;
import dev.mates.engine.oracle.OracleProber;
import dev.mates.engine.score.Scorer;
import dev.mates.engine.train.TokenBatch;
import dev.mates.engine.train.Trainer;

/**
 * The roles the loop talks to. Embedded roles are local objects ({@link EmbeddedRoles}); distributed roles are gRPC
 * clients that find the run's stored artefacts through the {@link Stage}. A stage gets a fresh influence model (the
 * paper refits every stage).
 */
public interface Roles {
    Trainer trainer();

    /** An oracle of {@code method} at the trainer's current state; the caller closes it. */
    OracleProber oracle(Trainer trainer, TokenBatch reference, OracleMethod method, Stage stage);

    InfluenceModel influenceModel(Stage stage);

    Scorer scorer(InfluenceModel model, Stage stage);

    /** Builds the roles of a run once its inputs (and so its tokenizer) are loaded. */
    interface Factory {
        Roles create(RunInputs inputs);
    }
}
