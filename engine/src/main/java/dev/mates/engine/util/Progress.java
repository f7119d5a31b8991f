package dev.mates.engine.util;

/**
 * Counts the work of one long operation and reports it to a {@link Listener}: every {@link #step} as progress,
 * {@link #done} as the one-line summary. Rendering (bars, rate, ETA) is the listener's business.
 */
public final class Progress {
    private final Listener listener;
    private final String label;
    private final long total;
    private final String unit;
    private final long startNanos = System.nanoTime();
    private long done;
    private String status = "";
    private boolean finished;

    public Progress(Listener listener, String label, long total, String unit) {
        this.listener = listener;
        this.label = label;
        this.total = total;
        this.unit = unit;
    }

    /** Status text reported with the next steps, e.g. the current loss. */
    public void status(String text) {
        this.status = text;
    }

    public void step(long n) {
        done += n;
        listener.progress(label, done, total, unit, status);
    }

    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    public long count() {
        return done;
    }

    /** Units per second since the start. */
    public double rate() {
        double s = seconds();
        return s > 0 ? done / s : 0;
    }

    /** Ends the operation with a one-line summary (once). */
    public void done(String summary) {
        if (finished) return;
        finished = true;
        listener.finished(label, done, unit, seconds(), summary);
    }
}
