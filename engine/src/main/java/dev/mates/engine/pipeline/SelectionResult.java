package dev.mates.engine.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.Map;

/**
 * The select phase: the chosen candidates (indices into the stage's pool, best key first; not reported), what
 * they are made of by {@code source}, and where the manifest was stored.
 */
public record SelectionResult(String selector, int k, int pool, double tau, long seed, Map<String, Integer> composition,
                              Map<String, Integer> poolComposition, String manifest, @JsonIgnore int[] chosen) {}
