package dev.mates.engine.pipeline;

/** The train phase of a stage (or the warm-up): steps taken, mean training loss, throughput. */
public record TrainResult(int steps, double meanLoss, double tokensPerSecond) {}
