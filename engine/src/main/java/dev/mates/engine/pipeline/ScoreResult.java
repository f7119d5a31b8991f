package dev.mates.engine.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;

/** The score phase: one predicted influence per candidate, in pool order (not reported), and the cost. */
public record ScoreResult(int docs, double seconds, double docsPerSecond, double flops, @JsonIgnore double[] scores) {}
