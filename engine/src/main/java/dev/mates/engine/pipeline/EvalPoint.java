package dev.mates.engine.pipeline;

/** One point of a loss curve: reference (and held-out, when there is a held-out set) loss after {@code step} steps. */
public record EvalPoint(long step, long tokens, double referenceLoss, Double heldoutLoss) {}
