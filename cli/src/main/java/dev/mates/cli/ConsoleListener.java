package dev.mates.cli;

import dev.mates.engine.util.Listener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Renders the engine's progress on the terminal: a bar with rate and ETA per long operation. On a terminal it
 * redraws one line (at most 5 times a second); elsewhere (CI, a log file) it prints a line at most every 5 seconds.
 * Each operation ends with its one-line summary; log lines and warnings go to the same stream.
 */
final class ConsoleListener implements Listener {
    private final PrintStream out;
    private final boolean tty;
    private final long intervalNanos;
    private String label = "";
    private long startNanos;
    private long lastPrintNanos;
    private boolean open;

    ConsoleListener(PrintStream out, boolean tty) {
        this.out = out;
        this.tty = tty;
        this.intervalNanos = tty ? 200_000_000L : 5_000_000_000L;
    }

    /** On stderr, redrawing in place when stderr is a terminal. */
    static ConsoleListener stderr() {
        return new ConsoleListener(System.err, System.console() != null);
    }

    @Override
    public synchronized void progress(String label, long done, long total, String unit, String detail) {
        long now = System.nanoTime();
        if (!label.equals(this.label) || !open) {
            this.label = label;
            startNanos = now;
            lastPrintNanos = now;
            open = true;
            return;
        }
        if (now - lastPrintNanos < intervalNanos) return;
        lastPrintNanos = now;
        double seconds = (now - startNanos) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        StringBuilder sb = head(label, done, total, unit);
        if (total > 0 && rate > 0) {
            sb.append(String.format(Locale.ROOT, " | %s/s | ETA %s", rate(rate), time((total - done) / rate)));
        }
        if (!detail.isEmpty()) sb.append(" | ").append(detail);
        print(sb.toString(), false);
    }

    @Override
    public synchronized void finished(String label, long done, String unit, double seconds, String summary) {
        StringBuilder sb = head(label, done, done, unit);
        sb.append(String.format(Locale.ROOT, " | %s/s | %s", rate(seconds > 0 ? done / seconds : 0), time(seconds)));
        if (summary != null && !summary.isEmpty()) sb.append(" | ").append(summary);
        print(sb.toString(), true);
        open = false;
    }

    @Override
    public synchronized void log(String line) {
        endLine();
        out.println(line);
    }

    @Override
    public synchronized void warn(String line) {
        endLine();
        out.println("warning: " + line);
    }

    private StringBuilder head(String label, long done, long total, String unit) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-10s ", label));
        if (total > 0) {
            int width = 24;
            int fill = (int) Math.min(width, Math.round(width * (double) done / total));
            sb.append('[').append("#".repeat(fill)).append(".".repeat(width - fill)).append("] ");
            sb.append(String.format(Locale.ROOT, "%d/%d %s", done, total, unit));
        } else {
            sb.append(String.format(Locale.ROOT, "%d %s", done, unit));
        }
        return sb;
    }

    private boolean midLine;

    private void print(String line, boolean end) {
        if (tty) {
            out.print("\r" + line + "\u001b[K" + (end ? "\n" : ""));
            midLine = !end;
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** A log line during a redrawn bar starts on a line of its own. */
    private void endLine() {
        if (midLine) {
            out.println();
            midLine = false;
        }
    }

    static String rate(double r) {
        if (r >= 1e6) return String.format(Locale.ROOT, "%.1fM", r / 1e6);
        if (r >= 1e3) return String.format(Locale.ROOT, "%.1fk", r / 1e3);
        return String.format(Locale.ROOT, "%.1f", r);
    }

    static String time(double s) {
        if (!Double.isFinite(s)) return "?";
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", t / 3600, (t % 3600) / 60)
                : String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
    }
}
