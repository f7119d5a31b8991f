package dev.mates.engine.util;

/**
 * Observes long engine work. The engine prints nothing itself: progress, phases, log lines and warnings go here,
 * and the caller decides what they become — bars on the CLI's terminal, metrics and {@code WatchRun} events in the
 * trainer service, nothing in a scorer worker. {@link #cancelled()} lets the caller stop a run between steps.
 */
public interface Listener {
    /** Observes nothing and never cancels. */
    Listener QUIET = new Listener() {};

    /** The run entered {@code phase} (warmup, probe, fit, score, select, train, done) of an arm's stage. */
    default void phase(String phase, String arm, int stage, long step) {}

    /**
     * {@code done} of {@code total} {@code unit}s of the operation {@code label} (total 0: unknown), with a short
     * status such as the current loss. Called often; renderers throttle.
     */
    default void progress(String label, long done, long total, String unit, String detail) {}

    /** The operation {@code label} ended after {@code seconds}: its one-line summary. */
    default void finished(String label, long done, String unit, double seconds, String summary) {
        log(label + ": " + summary);
    }

    /** A line for the user (what a run is doing, what it decided). */
    default void log(String line) {}

    /** Something the user should know and may want to fix (the run goes on). */
    default void warn(String line) {
        log("warning: " + line);
    }

    /** Polled between training steps and phases; true stops the run. */
    default boolean cancelled() {
        return false;
    }
}
