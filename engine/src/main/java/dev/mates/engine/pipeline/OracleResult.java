package dev.mates.engine.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * The probe phase of a stage: the oracle influence of every probe (not reported, stored as oracle.jsonl), what it
 * cost (the fidelity check included), and the measured fidelity: the Spearman between the exact oracle and the
 * approximate one ({@code fidelityMethod}: the run's own oracle, or the directional one in an exact run) on the
 * stage's first {@code fidelityProbes} probes. The three fidelity fields are null when the check is off
 * ({@code oracle.fidelity_probes} &lt; 3).
 */
public record OracleResult(String method, int count, double seconds, double flops, double mean, double std,
                           String fidelityMethod, Double fidelitySpearman, Integer fidelityProbes, double fidelitySeconds,
                           @JsonIgnore double[] influence) {}
