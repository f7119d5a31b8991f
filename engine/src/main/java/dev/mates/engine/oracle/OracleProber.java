package dev.mates.engine.oracle;

import dev.mates.engine.data.Document;
import java.util.List;

/**
 * Measures oracle data influence at the current checkpoint (MATES §3.1): for each probe document x,
 * I(x) = L(D_ref | one optimizer step on x) − L(D_ref | now). Negative = the step on x lowered the reference
 * loss, i.e. x helps. The model state is the same after the call as before it. An oracle may keep what it computed
 * once at this state (a reference gradient) across calls until it is closed; the state must not change meanwhile.
 */
public interface OracleProber extends AutoCloseable {
    double[] probe(List<Document> probes);

    @Override
    default void close() {}
}
