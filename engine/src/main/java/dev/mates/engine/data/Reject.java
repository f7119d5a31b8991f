package dev.mates.engine.data;

/** One input record that was not used, with where it was and why. {@code line} is 1-based; 0 = whole file. */
public record Reject(String file, long line, String reason, String excerpt) {
    @Override
    public String toString() {
        return file + (line > 0 ? ":" + line : "") + ": " + reason;
    }
}
