package dev.mates.engine.pipeline;

import dev.mates.engine.data.DocumentSplitter;
import dev.mates.engine.oracle.OracleMethod;
import dev.mates.engine.train.AdamWConfig;
import dev.mates.engine.train.GptConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every setting of a run. A config file holds {@code key = value} lines ({@code #} comments); every key is
 * listed in {@link #DEFAULTS} with its default and documented in docs/configuration.md. An unknown key or a bad
 * value is an error naming the file, the line and the key.
 */
public final class RunConfig {
    /** Default values; the demo profile. Order is the documentation order. */
    public static final Map<String, String> DEFAULTS = defaults();

    /** The smoke profile of {@code --quick}: same algorithm, minutes less work. */
    public static final Map<String, String> QUICK = Map.ofEntries(
            Map.entry("mates.warmup_steps", "40"),
            Map.entry("mates.stage_steps", "30"),
            Map.entry("mates.stages", "2"),
            Map.entry("oracle.probes", "200"),
            Map.entry("oracle.fidelity_probes", "16"),
            Map.entry("train.batch_size", "8"),
            Map.entry("eval.interval", "20"),
            Map.entry("influence.backbone", "ngram"),
            Map.entry("demo.reference_docs", "32"),
            Map.entry("demo.heldout_docs", "32"));

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("seed", "1");
        d.put("model.preset", "tiny");
        d.put("model.context", "128");
        d.put("tokenizer.vocab", "2048");
        d.put("tokenizer.sample_docs", "4000");
        d.put("train.batch_size", "16");
        d.put("train.lr", "1e-3");
        d.put("train.lr_warmup_steps", "50");
        d.put("train.weight_decay", "0.1");
        d.put("train.clip_norm", "1.0");
        d.put("mates.warmup_steps", "200");
        d.put("mates.stage_steps", "150");
        d.put("mates.stages", "4");
        d.put("mates.baseline_budget", "flops");
        d.put("oracle.method", "directional");
        d.put("oracle.probes", "2000");
        d.put("oracle.fidelity_probes", "32");
        d.put("oracle.eval_batch", "32");
        d.put("influence.backbone", "ngram");
        d.put("selection.tau", "1.0");
        d.put("selection.pool_multiplier", "5");
        d.put("eval.interval", "50");
        d.put("eval.batch_size", "32");
        d.put("data.max_doc_tokens", "0");
        d.put("data.long_documents", "split");
        d.put("demo.max_chars", "300");
        d.put("demo.reference_docs", "64");
        d.put("demo.heldout_docs", "128");
        return java.util.Collections.unmodifiableMap(d);
    }

    /**
     * Inclusive bounds of the numeric keys (docs/configuration.md): a value outside is refused, so a request cannot
     * ask a service for unbounded work or memory.
     */
    public static final Map<String, double[]> BOUNDS = Map.ofEntries(
            Map.entry("model.context", new double[] {8, 8192}),
            Map.entry("tokenizer.vocab", new double[] {257, 65536}),
            Map.entry("tokenizer.sample_docs", new double[] {1, 10_000_000}),
            Map.entry("train.batch_size", new double[] {1, 4096}),
            Map.entry("train.lr", new double[] {0, 10}),
            Map.entry("train.lr_warmup_steps", new double[] {0, 100_000_000}),
            Map.entry("train.weight_decay", new double[] {0, 10}),
            Map.entry("train.clip_norm", new double[] {0, 1e6}),
            Map.entry("mates.warmup_steps", new double[] {0, 100_000_000}),
            Map.entry("mates.stage_steps", new double[] {1, 100_000_000}),
            Map.entry("mates.stages", new double[] {1, 10_000}),
            Map.entry("oracle.probes", new double[] {0, 1_000_000}),
            Map.entry("oracle.fidelity_probes", new double[] {0, 100_000}),
            Map.entry("oracle.eval_batch", new double[] {1, 4096}),
            Map.entry("selection.tau", new double[] {Double.MIN_VALUE, 1e6}),
            Map.entry("selection.pool_multiplier", new double[] {1, 1000}),
            Map.entry("eval.interval", new double[] {1, 100_000_000}),
            Map.entry("eval.batch_size", new double[] {1, 4096}),
            Map.entry("data.max_doc_tokens", new double[] {0, 1_000_000_000}),
            Map.entry("demo.max_chars", new double[] {1, 10_000_000}),
            Map.entry("demo.reference_docs", new double[] {1, 1_000_000}),
            Map.entry("demo.heldout_docs", new double[] {1, 1_000_000}));

    private final Map<String, String> values;

    private RunConfig(Map<String, String> values) {
        this.values = values;
    }

    /** Defaults, then the profile, then the file, then explicit overrides (e.g. --seed). */
    public static RunConfig load(Path file, boolean quick, Map<String, String> overrides) {
        Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
        if (quick) v.putAll(QUICK);
        if (file != null) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ConfigException("--config: cannot read " + file + " (" + e.getMessage() + ")");
            }
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) continue;
                int eq = line.indexOf('=');
                if (eq < 0) {
                    throw new ConfigException(file + ":" + (i + 1) + ": expected 'key = value', got '" + line + "'");
                }
                String key = line.substring(0, eq).strip();
                if (!DEFAULTS.containsKey(key)) {
                    throw new ConfigException(file + ":" + (i + 1) + ": unknown key '" + key + "'"
                            + suggestion(key) + "; every key is listed in docs/configuration.md");
                }
                v.put(key, line.substring(eq + 1).strip());
            }
        }
        overrides.forEach((k, val) -> {
            if (!DEFAULTS.containsKey(k)) throw new ConfigException("unknown config key '" + k + "'");
            v.put(k, val);
        });
        RunConfig c = new RunConfig(v);
        c.validate(file == null ? "config" : file.toString());
        return c;
    }

    private static String suggestion(String key) {
        String best = null;
        int bestD = 4;
        for (String k : DEFAULTS.keySet()) {
            int d = editDistance(k, key);
            if (d < bestD) { bestD = d; best = k; }
        }
        return best == null ? "" : " (did you mean '" + best + "'?)";
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            int[] cur = new int[b.length() + 1];
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            prev = cur;
        }
        return prev[b.length()];
    }

    private void validate(String where) {
        for (String k : values.keySet()) {
            String v = values.get(k);
            String def = DEFAULTS.get(k);
            if (def.matches("-?\\d+")) intValue(k, where);
            else if (def.matches("[-+0-9.eE]+")) doubleValue(k, where);
            else if (v.isBlank()) throw new ConfigException(where + ": '" + k + "' is empty");
            double[] b = BOUNDS.get(k);
            if (b != null) {
                double x = getDouble(k);
                if (!(x >= b[0] && x <= b[1])) {
                    throw new ConfigException(where + ": " + k + " must be in [" + fmt(b[0]) + ", " + fmt(b[1]) + "], got " + v
                            + " (docs/configuration.md)");
                }
            }
        }
        positive("train.batch_size", where);
        positive("model.context", where);
        positive("mates.stage_steps", where);
        if (getDouble("selection.tau") <= 0) throw new ConfigException(where + ": selection.tau must be > 0");
        if (getDouble("selection.pool_multiplier") < 1) {
            throw new ConfigException(where + ": selection.pool_multiplier must be ≥ 1 (the pool is that many times the stage's data)");
        }
        try {
            OracleMethod.parse(get("oracle.method"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": " + e.getMessage());
        }
        String budget = get("mates.baseline_budget");
        if (!budget.equals("flops") && !budget.equals("tokens")) {
            throw new ConfigException(where + ": mates.baseline_budget must be 'flops' or 'tokens', got '" + budget + "'");
        }
        try {
            DocumentSplitter.Mode.parse(get("data.long_documents"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": " + e.getMessage());
        }
        int vocab = getInt("tokenizer.vocab");
        if (vocab < 257 || vocab > 65536) throw new ConfigException(where + ": tokenizer.vocab must be in [257, 65536]");
        if (!dev.mates.engine.train.GptConfig.PRESETS.contains(get("model.preset"))) {
            throw new ConfigException(where + ": model.preset: unknown preset '" + get("model.preset") + "'; choose one of "
                    + dev.mates.engine.train.GptConfig.PRESETS);
        }
        // Each key is bounded, but memory grows with products of them: bound the two largest tensors of a batch.
        long context = getInt("model.context");
        for (String b : List.of("train.batch_size", "eval.batch_size", "oracle.eval_batch")) {
            long n = getInt(b);
            if (n * context * vocab > MAX_BATCH_ELEMENTS) {
                throw new ConfigException(where + ": " + b + " × model.context × tokenizer.vocab = " + n * context * vocab
                        + " logits in one batch, more than " + MAX_BATCH_ELEMENTS + " (8 GiB of floats); lower one of them");
            }
            if (n * context * context > MAX_BATCH_ELEMENTS) {
                throw new ConfigException(where + ": " + b + " × model.context² = " + n * context * context
                        + " attention scores per head in one batch, more than " + MAX_BATCH_ELEMENTS + "; lower one of them");
            }
        }
    }

    /** The most elements one batch's logits or attention scores may have (2^31, 8 GiB of floats). */
    public static final long MAX_BATCH_ELEMENTS = 1L << 31;

    private static String fmt(double x) {
        return x == Double.MIN_VALUE ? "> 0" : x == Math.rint(x) ? Long.toString((long) x) : Double.toString(x);
    }

    private void positive(String k, String where) {
        if (getInt(k) <= 0) throw new ConfigException(where + ": " + k + " must be > 0, got " + get(k));
    }

    private int intValue(String k, String where) {
        try {
            return Integer.parseInt(values.get(k));
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": " + k + " must be an integer, got '" + values.get(k) + "'");
        }
    }

    private double doubleValue(String k, String where) {
        try {
            return Double.parseDouble(values.get(k));
        } catch (NumberFormatException e) {
            throw new ConfigException(where + ": " + k + " must be a number, got '" + values.get(k) + "'");
        }
    }

    public String get(String k) {
        String v = values.get(k);
        if (v == null) throw new IllegalArgumentException("no config key " + k);
        return v;
    }

    public int getInt(String k) {
        return intValue(k, "config");
    }

    public long getLong(String k) {
        return Long.parseLong(get(k));
    }

    public double getDouble(String k) {
        return doubleValue(k, "config");
    }

    /** The oracle.method the run probes with. */
    public OracleMethod oracleMethod() {
        return OracleMethod.parse(get("oracle.method"));
    }

    /** The GPT's shape: the model.preset at this vocabulary and model.context. */
    public GptConfig model(int vocabSize) {
        return GptConfig.preset(get("model.preset"), vocabSize, getInt("model.context"));
    }

    /** AdamW from the train.* keys (β and ε are fixed: {@link AdamWConfig#BETA1}, …). */
    public AdamWConfig optimizer() {
        return new AdamWConfig(getDouble("train.lr"), AdamWConfig.BETA1, AdamWConfig.BETA2, AdamWConfig.EPS,
                getDouble("train.weight_decay"), getDouble("train.clip_norm"), getInt("train.lr_warmup_steps"));
    }

    /** The defaults, with the {@code --quick} profile when {@code quick}. */
    public static RunConfig defaults(boolean quick) {
        return load(null, quick, Map.of());
    }

    public Map<String, String> asMap() {
        return new TreeMap<>(values);
    }

    public RunConfig with(String k, String v) {
        Map<String, String> m = new LinkedHashMap<>(values);
        m.put(k, v);
        return new RunConfig(m);
    }

    public static final class ConfigException extends RuntimeException {
        public ConfigException(String message) {
            super(message);
        }
    }
}
