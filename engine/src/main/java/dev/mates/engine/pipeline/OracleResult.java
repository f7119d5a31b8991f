package dev.mates.engine.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * The probe phase of a stage: the oracle influence of every probe (not reported, stored as oracle.jsonl), what it
 * cost, and — for the exact oracle — the Spearman of the first-order oracle against it on the first probes.
 */
public record OracleResult(String method, int count, double seconds, double flops, double mean, double std,
                           Double firstOrderSpearman, Integer firstOrderCompared, @JsonIgnore double[] influence) {}
