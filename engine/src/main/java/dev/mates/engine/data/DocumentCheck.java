package dev.mates.engine.data;

/** A caller-supplied rule on accepted records (e.g. a minimum length). */
@FunctionalInterface
public interface DocumentCheck {
    /**
     * @return null when the document is fine, else a reason written as {@code "kind: detail"} so rejects can be
     *     counted by kind
     */
    String problem(Document d);
}
