package dev.mates.engine.pipeline;

/**
 * One point of a loss curve: reference (and held-out, when there is a held-out set) loss after {@code step} steps,
 * {@code tokens} training tokens and {@code flops} total FLOPs (training plus the arm's selection overhead so far,
 * as {@link Flops} counts them).
 */
public record EvalPoint(long step, long tokens, double flops, double referenceLoss, Double heldoutLoss) {}
