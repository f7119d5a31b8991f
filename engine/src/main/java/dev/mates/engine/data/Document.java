package dev.mates.engine.data;

import java.util.Map;

/**
 * One document of a corpus in the C4/Dolma convention: {@code text} is required, {@code id} is taken from the
 * record or derived from its content, every other field is kept as metadata (non-string values as their JSON
 * text). {@code key} is a stable 64-bit hash of the id: the selection noise is keyed by it.
 */
public record Document(String id, String text, Map<String, String> meta, long key) {

    public Document(String id, String text, Map<String, String> meta) {
        this(id, text, Map.copyOf(meta), Hashing.key64(id));
    }

    public Document(String id, String text) {
        this(id, text, Map.of());
    }

    /** The {@code "source"} field, used to report the composition of selections. */
    public String source() {
        return meta.getOrDefault("source", "unknown");
    }
}
