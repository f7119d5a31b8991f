package dev.mates.engine.train;

/**
 * AdamW hyper-parameters and the paper's schedule: linear warm-up to {@code lr}, then constant. Weight decay is
 * decoupled and applies to matrices only (not biases, norms).
 */
public record AdamWConfig(double lr, double beta1, double beta2, double eps, double weightDecay, double clipNorm,
                          int warmupSteps) {
    /** β1, β2 and ε of every run (nanoGPT's and Pythia's choices); the other values come from the train.* keys. */
    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.95;
    public static final double EPS = 1e-8;

    /** Learning rate used by the update that takes the optimizer from {@code step} to {@code step + 1}. */
    public double lrAt(long step) {
        return warmupSteps <= 0 ? lr : lr * Math.min(1.0, (step + 1.0) / warmupSteps);
    }
}
