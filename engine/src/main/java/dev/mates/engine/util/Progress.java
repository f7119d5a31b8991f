package dev.mates.engine.util;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar with rate and ETA for long operations. On a terminal it redraws one line; elsewhere (CI, logs)
 * it prints a line at most every {@code intervalMillis}. {@link #done(String)} prints the one-line summary.
 */
public final class Progress implements AutoCloseable {
    private static volatile PrintStream out = System.err;
    private static volatile boolean quiet = false;

    private final String label;
    private final long total;
    private final String unit;
    private final long startNanos = System.nanoTime();
    private final boolean tty = System.console() != null;
    private final long intervalMillis;
    private long done;
    private long lastPrint;
    private String extra = "";
    private boolean finished;

    public Progress(String label, long total, String unit) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.intervalMillis = tty ? 200 : 5000;
        this.lastPrint = System.currentTimeMillis();
    }

    public static void setQuiet(boolean q) {
        quiet = q;
    }

    public static boolean isQuiet() {
        return quiet;
    }

    public static void setOut(PrintStream s) {
        out = s;
    }

    /** Status text shown after the bar, e.g. the current loss. */
    public void status(String text) {
        this.extra = text;
    }

    public void step(long n) {
        done += n;
        long now = System.currentTimeMillis();
        if (now - lastPrint >= intervalMillis) {
            lastPrint = now;
            print(false);
        }
    }

    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    public long count() {
        return done;
    }

    public double rate() {
        double s = seconds();
        return s > 0 ? done / s : 0;
    }

    private void print(boolean end) {
        if (quiet) return;
        double rate = rate();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-10s ", label));
        if (total > 0) {
            int width = 24;
            int fill = (int) Math.min(width, Math.round(width * (double) done / total));
            sb.append('[').append("#".repeat(fill)).append(".".repeat(width - fill)).append("] ");
            sb.append(String.format(Locale.ROOT, "%d/%d %s", done, total, unit));
            if (!end && rate > 0) {
                sb.append(String.format(Locale.ROOT, " | %s/s | ETA %s", fmtRate(rate), fmtTime((total - done) / rate)));
            }
        } else {
            sb.append(String.format(Locale.ROOT, "%d %s", done, unit));
        }
        if (end) sb.append(String.format(Locale.ROOT, " | %s/s | %s", fmtRate(rate), fmtTime(seconds())));
        if (!extra.isEmpty()) sb.append(" | ").append(extra);
        if (tty) {
            out.print("\r" + sb + "\u001b[K" + (end ? "\n" : ""));
        } else {
            out.println(sb);
        }
        out.flush();
    }

    /** Ends the bar with a one-line summary. */
    public void done(String summary) {
        if (finished) return;
        finished = true;
        if (summary != null && !summary.isEmpty()) extra = summary;
        print(true);
    }

    @Override
    public void close() {
        done("");
    }

    static String fmtRate(double r) {
        if (r >= 1e6) return String.format(Locale.ROOT, "%.1fM", r / 1e6);
        if (r >= 1e3) return String.format(Locale.ROOT, "%.1fk", r / 1e3);
        return String.format(Locale.ROOT, "%.1f", r);
    }

    static String fmtTime(double s) {
        if (!Double.isFinite(s)) return "?";
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", t / 3600, (t % 3600) / 60)
                : String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
    }
}
