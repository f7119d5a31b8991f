package dev.mates.engine.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.SequenceWriter;
import dev.mates.engine.data.ByteBpeTokenizer;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.train.Checkpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The formats of what a run stores (keys in {@link StorageLayout}), in one place so that the embedded pipeline
 * and every service read and write the same objects: JSONL through Jackson's {@link SequenceWriter} and
 * {@link MappingIterator}, checkpoints as tensor files plus meta.json.
 */
public final class RunArtifacts {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private RunArtifacts() {}

    /** A document line: {"id","text","meta"?}. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    record DocumentLine(String id, String text, Map<String, String> meta) {}

    /** An oracle label line: {"id","text","influence"}. */
    record LabelLine(String id, String text, Double influence) {}

    /** A shard score line: {"id","score"}. */
    record ScoreLine(String id, Double score) {}

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

    // ---- documents, labels and scores as JSONL ----------------------------------------------------------------

    public static byte[] documentsToJsonl(List<Document> docs) {
        return jsonl(docs, d -> new DocumentLine(d.id(), d.text(), d.meta()));
    }

    public static List<Document> documentsFromJsonl(byte[] bytes, String what) {
        List<Document> out = new ArrayList<>();
        readJsonl(bytes, DocumentLine.class, what, (line, d) -> {
            out.add(new Document(required(d.id(), "id", what, line), required(d.text(), "text", what, line),
                    d.meta() == null ? Map.of() : d.meta()));
        });
        return out;
    }

    public static byte[] labelsToJsonl(List<Document> docs, double[] influence) {
        List<LabelLine> lines = new ArrayList<>(docs.size());
        for (int i = 0; i < docs.size(); i++) lines.add(new LabelLine(docs.get(i).id(), docs.get(i).text(), influence[i]));
        return jsonl(lines, Function.identity());
    }

    public record Labels(List<Document> docs, double[] influence) {}

    public static Labels labelsFromJsonl(byte[] bytes, String what) {
        List<Document> docs = new ArrayList<>();
        List<Double> inf = new ArrayList<>();
        readJsonl(bytes, LabelLine.class, what, (line, l) -> {
            docs.add(new Document(required(l.id(), "id", what, line), required(l.text(), "text", what, line)));
            if (l.influence() == null) throw new IllegalArgumentException(what + " line " + line + ": \"influence\" must be a number");
            inf.add(l.influence());
        });
        return new Labels(docs, inf.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Shard scores: one {"id","score"} per document, in shard order. */
    public static byte[] scoresToJsonl(List<Document> docs, double[] scores) {
        List<ScoreLine> lines = new ArrayList<>(docs.size());
        for (int i = 0; i < docs.size(); i++) lines.add(new ScoreLine(docs.get(i).id(), scores[i]));
        return jsonl(lines, Function.identity());
    }

    /** Reads shard scores and checks they are for exactly {@code docs}, in order. */
    public static double[] scoresFromJsonl(byte[] bytes, List<Document> docs, String what) {
        double[] out = new double[docs.size()];
        int[] n = {0};
        readJsonl(bytes, ScoreLine.class, what, (line, s) -> {
            int i = n[0];
            if (i >= docs.size() || !docs.get(i).id().equals(s.id())) {
                throw new IllegalStateException(what + " line " + line + ": score for '" + s.id()
                        + "' but the shard's document " + (i + 1) + " is " + (i < docs.size() ? "'" + docs.get(i).id() + "'" : "absent"));
            }
            out[n[0]++] = s.score() == null ? Double.NaN : s.score();
        });
        if (n[0] != docs.size()) throw new IllegalStateException(what + ": " + n[0] + " scores for " + docs.size() + " documents");
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
        store.put(base + "meta.json", c.metaJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public static Checkpoint readCheckpoint(ObjectStore store, String base) {
        Checkpoint.Meta meta = Checkpoint.Meta.parse(require(store, base + "meta.json"), base + "meta.json");
        Map<String, float[]> weights = Checkpoint.tensorsFromBytes(require(store, base + "model"), base + "model");
        Map<String, float[]> opt = Checkpoint.tensorsFromBytes(require(store, base + "optimizer"), base + "optimizer");
        Map<String, float[]> m = new LinkedHashMap<>();
        Map<String, float[]> v = new LinkedHashMap<>();
        opt.forEach((k, t) -> {
            if (k.startsWith("m/")) m.put(k.substring(2), t);
            else if (k.startsWith("v/")) v.put(k.substring(2), t);
        });
        return meta.checkpoint(weights, m, v);
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

    private static <T> byte[] jsonl(List<T> items, Function<T, ?> line) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SequenceWriter w = JSON.writer().withRootValueSeparator("\n").writeValues(out)) {
            for (T t : items) w.write(line.apply(t));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!items.isEmpty()) out.write('\n');
        return out.toByteArray();
    }

    private interface LineSink<T> {
        void accept(int line, T value);
    }

    /** Reads one {@code type} per line; errors name {@code what} and the 1-based line. */
    private static <T> void readJsonl(byte[] bytes, Class<T> type, String what, LineSink<T> sink) {
        ObjectReader reader = JSON.readerFor(type);
        try (MappingIterator<T> it = reader.readValues(bytes)) {
            while (true) {
                int line;
                T value;
                try {
                    if (!it.hasNextValue()) break;
                    value = it.nextValue();
                    line = it.getCurrentLocation().getLineNr();
                } catch (IOException e) {
                    String why = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
                    throw new IllegalArgumentException(what + " line " + Math.max(1, it.getCurrentLocation().getLineNr())
                            + ": not valid JSON (" + why + ")", e);
                }
                sink.accept(line, value);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String required(String v, String name, String what, int line) {
        if (v == null) throw new IllegalArgumentException(what + " line " + line + ": record without string \"" + name + "\"");
        return v;
    }
}
