package dev.mates.engine.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint as plain data: model config, weights, AdamW moments, step and the data cursor (how far the
 * training stream has been consumed). Save and resume are symmetric, and resuming gives a bit-identical next
 * step.
 *
 * <p>Tensor file format ({@link #tensorsToBytes}): int magic "MTT1", int count, then per tensor: UTF name,
 * int length, float32 values big-endian.
 */
public record Checkpoint(GptConfig config, long step, long dataCursor, Map<String, float[]> weights,
                         Map<String, float[]> adamM, Map<String, float[]> adamV) {

    private static final int MAGIC = 0x4d545431;

    public static byte[] tensorsToBytes(Map<String, float[]> tensors) {
        long size = 8;
        for (var e : tensors.entrySet()) size += 8 + e.getKey().length() + 4L * e.getValue().length;
        ByteArrayOutputStream bos = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8, size));
        try (DataOutputStream out = new DataOutputStream(bos)) {
            out.writeInt(MAGIC);
            out.writeInt(tensors.size());
            for (var e : tensors.entrySet()) {
                out.writeUTF(e.getKey());
                float[] v = e.getValue();
                out.writeInt(v.length);
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(v.length * 4);
                buf.asFloatBuffer().put(v);
                out.write(buf.array());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bos.toByteArray();
    }

    public static Map<String, float[]> tensorsFromBytes(byte[] bytes, String what) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (in.readInt() != MAGIC) throw new IllegalArgumentException(what + ": not a mates tensor file");
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                int len = in.readInt();
                byte[] raw = new byte[len * 4];
                in.readFully(raw);
                float[] v = new float[len];
                java.nio.ByteBuffer.wrap(raw).asFloatBuffer().get(v);
                out.put(name, v);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(what + ": truncated or corrupt tensor file (" + e + ")", e);
        }
        return out;
    }

    /** One self-contained blob: a JSON header line (config, step, cursor) then the three tensor files. */
    public byte[] toBytes() {
        try {
            java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bos);
            out.writeUTF(metaJson());
            for (Map<String, float[]> t : java.util.List.of(weights, adamM, adamV)) {
                byte[] b = tensorsToBytes(t);
                out.writeInt(b.length);
                out.write(b);
            }
            out.flush();
            return bos.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Checkpoint fromBytes(byte[] bytes) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            Meta meta = Meta.parse(in.readUTF().getBytes(StandardCharsets.UTF_8), "checkpoint");
            @SuppressWarnings("unchecked")
            Map<String, float[]>[] parts = new Map[3];
            for (int i = 0; i < 3; i++) {
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                parts[i] = tensorsFromBytes(b, "checkpoint");
            }
            return meta.checkpoint(parts[0], parts[1], parts[2]);
        } catch (IOException e) {
            throw new IllegalArgumentException("checkpoint: truncated or corrupt (" + e.getMessage() + ")", e);
        }
    }

    /** meta.json of a stored checkpoint: step, data cursor and the model's shape. */
    public String metaJson() {
        return new String(Meta.of(this).toJson(), StandardCharsets.UTF_8);
    }

    /** What meta.json holds (snake_case fields: step, data_cursor, config{name, vocab, context, d_model, layers, heads}). */
    public record Meta(long step, long dataCursor, Shape config) {
        private static final ObjectMapper JSON = new ObjectMapper()
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

        public record Shape(String name, int vocab, int context, int dModel, int layers, int heads) {}

        static Meta of(Checkpoint c) {
            GptConfig g = c.config();
            return new Meta(c.step(), c.dataCursor(),
                    new Shape(g.name(), g.vocabSize(), g.context(), g.dModel(), g.nLayers(), g.nHeads()));
        }

        public byte[] toJson() {
            try {
                return JSON.writeValueAsBytes(this);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Parses meta.json; {@code what} names the object in the error. */
        public static Meta parse(byte[] json, String what) {
            try {
                Meta m = JSON.readValue(json, Meta.class);
                if (m.config() == null) throw new IllegalArgumentException(what + ": meta.json has no \"config\"");
                return m;
            } catch (IOException e) {
                throw new IllegalArgumentException(what + ": not a valid checkpoint meta.json (" + e.getMessage() + ")", e);
            }
        }

        /** The checkpoint these metadata describe, with its tensors. */
        public Checkpoint checkpoint(Map<String, float[]> weights, Map<String, float[]> m, Map<String, float[]> v) {
            Shape c = config;
            GptConfig cfg = new GptConfig(c.name(), c.vocab(), c.context(), c.dModel(), c.layers(), c.heads());
            return new Checkpoint(cfg, step, dataCursor, weights, m, v);
        }
    }

    public Checkpoint withDataCursor(long cursor) {
        return new Checkpoint(config, step, cursor, weights, adamM, adamV);
    }
}
