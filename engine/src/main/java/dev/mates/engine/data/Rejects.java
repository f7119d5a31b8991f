package dev.mates.engine.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SequenceWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Collects the records that were not used so that a bad line never stops a run and is never lost silently. Every
 * reject goes to an optional JSONL file ({@code {"file","line","reason","excerpt"}}); only the first
 * {@value #KEPT_IN_MEMORY} are kept in memory, so a corpus with millions of bad lines does not exhaust the heap.
 */
public final class Rejects implements AutoCloseable {
    static final int KEPT_IN_MEMORY = 1000;
    static final int MAX_EXCERPT = 200;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final SequenceWriter out;
    private final Writer raw;
    private final List<Reject> first = new ArrayList<>();
    private final Map<String, Long> byKind = new HashMap<>();
    private long count;

    public Rejects(Path jsonlFileOrNull) {
        this.file = jsonlFileOrNull;
        if (jsonlFileOrNull == null) {
            this.out = null;
            this.raw = null;
            return;
        }
        try {
            Path parent = jsonlFileOrNull.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            this.raw = Files.newBufferedWriter(jsonlFileOrNull, StandardCharsets.UTF_8);
            this.out = JSON.writer().withRootValueSeparator("\n").writeValues(raw);
        } catch (IOException e) {
            throw new DataException("cannot write rejects file " + jsonlFileOrNull + ": " + e.getMessage()
                    + " (check that its folder is writable)", e);
        }
    }

    /** A collector that only counts, for callers that do not need a file. */
    public static Rejects inMemory() {
        return new Rejects(null);
    }

    public synchronized void add(Reject r) {
        String excerpt = excerpt(r.excerpt());
        Reject kept = excerpt == r.excerpt() ? r : new Reject(r.file(), r.line(), r.reason(), excerpt);
        count++;
        byKind.merge(kind(r.reason()), 1L, Long::sum);
        if (first.size() < KEPT_IN_MEMORY) first.add(kept);
        if (out != null) {
            try {
                out.write(kept); // {"file","line","reason","excerpt"}
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write rejects file " + file, e);
            }
        }
    }

    public synchronized long count() {
        return count;
    }

    /** Counts per kind, the reason text before its first ':', most frequent first. */
    public synchronized Map<String, Long> countsByKind() {
        return byKind.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
    }

    /** The first {@code n} rejects in arrival order (at most {@value #KEPT_IN_MEMORY} are kept). */
    public synchronized List<Reject> first(int n) {
        return List.copyOf(first.subList(0, Math.min(n, first.size())));
    }

    /** One line for the end of a run, e.g. "3 records rejected (malformed JSON 2, empty text 1) — see rejects.jsonl". */
    public synchronized String summary() {
        return summary(file == null ? null : file.toString());
    }

    /** As {@link #summary()}, naming {@code whereOrNull} as the place the rejects are listed. */
    public synchronized String summary(String whereOrNull) {
        if (count == 0) return "no records rejected";
        String kinds = countsByKind().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
        return count + (count == 1 ? " record" : " records") + " rejected (" + kinds + ")"
                + (whereOrNull != null ? " — see " + whereOrNull : "");
    }

    public synchronized void flush() {
        if (out == null) return;
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write rejects file " + file, e);
        }
    }

    @Override
    public synchronized void close() {
        if (out == null) return;
        try {
            out.flush();
            if (count > 0) raw.write('\n'); // the separator goes between records: end the last line too
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write rejects file " + file, e);
        }
    }

    static String kind(String reason) {
        if (reason == null) return "unknown";
        int colon = reason.indexOf(':');
        return (colon >= 0 ? reason.substring(0, colon) : reason).trim();
    }

    static String excerpt(String s) {
        if (s == null) return "";
        if (s.length() <= MAX_EXCERPT) return s;
        int end = MAX_EXCERPT;
        // never split a surrogate pair: half an emoji would make the JSONL file invalid UTF-8
        if (Character.isHighSurrogate(s.charAt(end - 1))) end--;
        return s.substring(0, end);
    }
}
