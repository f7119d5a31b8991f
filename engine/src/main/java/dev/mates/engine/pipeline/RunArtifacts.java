package dev.mates.engine.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.engine.data.ByteBpeTokenizer;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.train.Checkpoint;
import dev.mates.engine.train.GptConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The object-store layout of a run (docs/operations.md) and the formats of what is stored there, in one place so
 * that the embedded pipeline and every service read and write the same objects.
 *
 * <pre>
 * runs/{run}/config.json                 resolved config (every key)
 * runs/{run}/tokenizer.bin               the run's byte-level BPE
 * runs/{run}/reference.jsonl             D_ref documents
 * runs/{run}/report.partial.json         report so far (resume point)
 * runs/{run}/report.json                 final report
 * runs/{run}/{arm}/checkpoints/step-{N}/{model,optimizer,meta.json}
 * runs/{run}/{arm}/stages/{s}/oracle.jsonl                 {"id","text","influence"} per probe
 * runs/{run}/{arm}/stages/{s}/influence-model/{backbone}.bin
 * runs/{run}/{arm}/stages/{s}/influence-model/fits/{backbone}-{fit}.bin  (distributed: one per fit attempt)
 * runs/{run}/{arm}/stages/{s}/shards/shard-{k}.jsonl       candidate documents of a scoring shard
 * runs/{run}/{arm}/stages/{s}/scores/{attempt}/shard-{k}.jsonl  {"id","score"} per document of the shard
 * runs/{run}/{arm}/stages/{s}/selection.json               the selection manifest
 * </pre>
 */
public final class RunArtifacts {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RunArtifacts() {}

    public static String runPrefix(String run) {
        return "runs/" + run + "/";
    }

    public static String configKey(String run) {
        return runPrefix(run) + "config.json";
    }

    public static String tokenizerKey(String run) {
        return runPrefix(run) + "tokenizer.bin";
    }

    public static String referenceKey(String run) {
        return runPrefix(run) + "reference.jsonl";
    }

    public static String partialReportKey(String run) {
        return runPrefix(run) + "report.partial.json";
    }

    public static String reportKey(String run) {
        return runPrefix(run) + "report.json";
    }

    public static String checkpointKey(String run, String arm, long step) {
        return runPrefix(run) + arm + "/checkpoints/step-" + step + "/";
    }

    public static String stageKey(String run, String arm, int stage) {
        return runPrefix(run) + arm + "/stages/" + stage + "/";
    }

    public static String labelsKey(String run, String arm, int stage) {
        return stageKey(run, arm, stage) + "oracle.jsonl";
    }

    public static String modelKey(String run, String arm, int stage, String backbone) {
        return stageKey(run, arm, stage) + "influence-model/" + backbone + ".bin";
    }

    public static String shardKey(String run, String arm, int stage, int shard) {
        return stageKey(run, arm, stage) + "shards/shard-" + shard + ".jsonl";
    }

    public static String manifestKey(String run, String arm, int stage) {
        return stageKey(run, arm, stage) + "selection.json";
    }

    /** Redis/state key of a run's hash. */
    public static String stateKey(String run) {
        return "run:" + run;
    }

    // ---- config ---------------------------------------------------------------------------------------------

    public static byte[] configBytes(RunConfig cfg) {
        return json(cfg.asMap());
    }

    public static RunConfig readConfig(ObjectStore store, String key) {
        JsonNode n = parse(require(store, key), key);
        Map<String, String> overrides = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> overrides.put(e.getKey(), e.getValue().asText()));
        return RunConfig.load(null, false, overrides);
    }

    public static Tokenizer readTokenizer(ObjectStore store, String key) {
        return ByteBpeTokenizer.fromBytes(require(store, key));
    }

    // ---- documents as JSONL ---------------------------------------------------------------------------------

    /** One {"id","text","meta"} object per line. */
    public static byte[] documentsToJsonl(List<Document> docs) {
        StringBuilder sb = new StringBuilder();
        for (Document d : docs) {
            ObjectNode o = JSON.createObjectNode();
            o.put("id", d.id());
            o.put("text", d.text());
            if (!d.meta().isEmpty()) o.set("meta", JSON.valueToTree(d.meta()));
            sb.append(o).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static List<Document> documentsFromJsonl(byte[] bytes, String what) {
        List<Document> out = new ArrayList<>();
        for (JsonNode o : lines(bytes, what)) {
            Map<String, String> meta = new LinkedHashMap<>();
            if (o.has("meta")) o.get("meta").fields().forEachRemaining(e -> meta.put(e.getKey(), e.getValue().asText()));
            out.add(new Document(field(o, "id", what), field(o, "text", what), meta));
        }
        return out;
    }

    /** Oracle labels: one {"id","text","influence"} per probe. */
    public static byte[] labelsToJsonl(List<Document> docs, double[] influence) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < docs.size(); i++) {
            ObjectNode o = JSON.createObjectNode();
            o.put("id", docs.get(i).id());
            o.put("text", docs.get(i).text());
            o.put("influence", influence[i]);
            sb.append(o).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public record Labels(List<Document> docs, double[] influence) {}

    public static Labels labelsFromJsonl(byte[] bytes, String what) {
        List<Document> docs = new ArrayList<>();
        List<Double> inf = new ArrayList<>();
        for (JsonNode o : lines(bytes, what)) {
            docs.add(new Document(field(o, "id", what), field(o, "text", what)));
            if (!o.hasNonNull("influence") || !o.get("influence").isNumber()) {
                throw new IllegalArgumentException(what + " line " + docs.size() + ": \"influence\" must be a number");
            }
            inf.add(o.get("influence").asDouble());
        }
        return new Labels(docs, inf.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Shard scores: one {"id","score"} per document, in shard order. */
    public static byte[] scoresToJsonl(List<Document> docs, double[] scores) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < docs.size(); i++) {
            ObjectNode o = JSON.createObjectNode();
            o.put("id", docs.get(i).id());
            o.put("score", scores[i]);
            sb.append(o).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Reads shard scores and checks they are for exactly {@code docs}, in order. */
    public static double[] scoresFromJsonl(byte[] bytes, List<Document> docs, String what) {
        double[] out = new double[docs.size()];
        int i = 0;
        for (JsonNode o : lines(bytes, what)) {
            if (i >= docs.size() || !docs.get(i).id().equals(o.path("id").asText())) {
                throw new IllegalStateException(what + " line " + (i + 1) + ": score for '" + o.path("id").asText()
                        + "' but the shard's document " + (i + 1) + " is " + (i < docs.size() ? "'" + docs.get(i).id() + "'" : "absent"));
            }
            out[i++] = o.path("score").asDouble(Double.NaN);
        }
        if (i != docs.size()) throw new IllegalStateException(what + ": " + i + " scores for " + docs.size() + " documents");
        return out;
    }

    // ---- checkpoints ----------------------------------------------------------------------------------------

    /** Writes model, optimizer (m/ and v/ tensors) and meta.json under {@code base} (ends with '/'). */
    public static void writeCheckpoint(ObjectStore store, String base, Checkpoint c) {
        Map<String, float[]> opt = new LinkedHashMap<>();
        c.adamM().forEach((k, v) -> opt.put("m/" + k, v));
        c.adamV().forEach((k, v) -> opt.put("v/" + k, v));
        store.put(base + "model", Checkpoint.tensorsToBytes(c.weights()));
        store.put(base + "optimizer", Checkpoint.tensorsToBytes(opt));
        // meta.json last: a checkpoint whose meta.json exists is complete.
        store.put(base + "meta.json", c.metaJson().getBytes(StandardCharsets.UTF_8));
    }

    public static Checkpoint readCheckpoint(ObjectStore store, String base) {
        JsonNode meta = parse(require(store, base + "meta.json"), base + "meta.json");
        Map<String, float[]> weights = Checkpoint.tensorsFromBytes(require(store, base + "model"), base + "model");
        Map<String, float[]> opt = Checkpoint.tensorsFromBytes(require(store, base + "optimizer"), base + "optimizer");
        Map<String, float[]> m = new LinkedHashMap<>();
        Map<String, float[]> v = new LinkedHashMap<>();
        opt.forEach((k, t) -> {
            if (k.startsWith("m/")) m.put(k.substring(2), t);
            else if (k.startsWith("v/")) v.put(k.substring(2), t);
        });
        JsonNode c = meta.get("config");
        GptConfig cfg = new GptConfig(c.get("name").asText(), c.get("vocab").asInt(), c.get("context").asInt(),
                c.get("d_model").asInt(), c.get("layers").asInt(), c.get("heads").asInt());
        return new Checkpoint(cfg, meta.get("step").asLong(), meta.get("data_cursor").asLong(), weights, m, v);
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    /** The object, or {@link MissingObjectException} naming the key. */
    public static byte[] require(ObjectStore store, String key) {
        return store.get(key).orElseThrow(() -> new MissingObjectException(key));
    }

    /** A referenced object does not exist (the services answer NOT_FOUND). */
    public static final class MissingObjectException extends RuntimeException {
        private final String key;

        public MissingObjectException(String key) {
            super("object not found: " + key);
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    public static byte[] json(Object o) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static JsonNode parse(byte[] bytes, String what) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    private static String field(JsonNode o, String name, String what) {
        JsonNode v = o.get(name);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException(what + ": record without string \"" + name + "\": " + o);
        return v.asText();
    }

    private static Iterable<JsonNode> lines(byte[] bytes, String what) {
        BufferedReader r = new BufferedReader(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
        return () -> new Iterator<>() {
            int lineNo;
            JsonNode next = advance();

            private JsonNode advance() {
                try {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lineNo++;
                        if (line.isBlank()) continue;
                        try {
                            return JSON.readTree(line);
                        } catch (IOException e) {
                            throw new IllegalArgumentException(what + " line " + lineNo + ": not valid JSON", e);
                        }
                    }
                    return null;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public JsonNode next() {
                if (next == null) throw new NoSuchElementException();
                JsonNode n = next;
                next = advance();
                return n;
            }
        };
    }
}
