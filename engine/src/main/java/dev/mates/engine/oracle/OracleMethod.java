package dev.mates.engine.oracle;

import java.util.Arrays;
import java.util.Locale;

/** The oracles a run can probe with ({@code oracle.method}); every approximate one is measured against {@link #EXACT}. */
public enum OracleMethod {
    /** One AdamW step per probe, then the reference loss: the ground truth. */
    EXACT("exact"),
    /** ∇L_ref · Δθ(x) with the true AdamW update: one backward per probe. */
    FIRST_ORDER("first-order"),
    /** Linearised AdamW, u·∇L_x by batched central differences: forward passes only. */
    DIRECTIONAL("directional");

    private final String key;

    OracleMethod(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    /** The method named {@code name}; an unknown name is an error listing the choices. */
    public static OracleMethod parse(String name) {
        for (OracleMethod m : values()) if (m.key.equals(name.strip().toLowerCase(Locale.ROOT))) return m;
        throw new IllegalArgumentException("oracle.method must be one of " + Arrays.stream(values()).map(OracleMethod::key).toList()
                + ", got '" + name + "'");
    }
}
