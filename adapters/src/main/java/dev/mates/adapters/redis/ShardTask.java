package dev.mates.adapters.redis;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One scoring shard on the queue, as the trainer writes it and a scorer worker reads it: the task id, the done-set
 * the completion is recorded in, the object keys of the shard's documents and of the stage's influence model (with
 * its backbone), and where the worker writes the shard's scores. Keys come from the engine's StorageLayout.
 */
public record ShardTask(String task, String doneSet, String docsKey, String modelKey, String backbone, String outKey) {
    static final String DOCS = "docs";
    static final String MODEL = "model";
    static final String BACKBONE = "backbone";
    static final String OUT = "out";

    /** The stream entry's fields. */
    public Map<String, String> toFields() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put(RedisShardQueue.TASK, task);
        f.put(RedisShardQueue.DONE_SET, doneSet);
        f.put(DOCS, docsKey);
        f.put(MODEL, modelKey);
        f.put(BACKBONE, backbone);
        f.put(OUT, outKey);
        return f;
    }

    /** The task of a stream entry; a missing or blank field is an {@link IllegalArgumentException} naming it. */
    public static ShardTask fromFields(Map<String, String> f) {
        return new ShardTask(required(f, RedisShardQueue.TASK), required(f, RedisShardQueue.DONE_SET), required(f, DOCS),
                required(f, MODEL), required(f, BACKBONE), required(f, OUT));
    }

    private static String required(Map<String, String> f, String field) {
        String v = f.get(field);
        if (v == null || v.isBlank()) throw new IllegalArgumentException("shard entry without '" + field + "'");
        return v;
    }
}
