package dev.mates.engine.select;

import java.util.List;
import java.util.Map;

/** What a stage selected and everything needed to reproduce it. Stored as {@code stages/{s}/selection.json}. */
public record SelectionManifest(String run, int stage, String selector, long seed, double tau, int k, int poolSize,
                                String checkpointRef, String modelRef, List<String> ids,
                                Map<String, Integer> composition) {}
