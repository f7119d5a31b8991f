package dev.mates.engine.train;

import java.util.List;
import java.util.Locale;

/**
 * Shape of the GPT decoder. {@code tiny} is sized for the CPU demo; the Pythia presets carry the shapes of
 * Pythia-160M/410M/1B (d_model, layers, heads; context 2048) for real hardware.
 */
public record GptConfig(String name, int vocabSize, int context, int dModel, int nLayers, int nHeads) {

    public static final List<String> PRESETS = List.of("tiny", "small", "pythia-160m", "pythia-410m", "pythia-1b");

    public GptConfig {
        if (dModel % nHeads != 0) {
            throw new IllegalArgumentException("model.d_model (" + dModel + ") must be divisible by model.heads (" + nHeads + ")");
        }
        if (vocabSize < 257 || context < 2 || nLayers < 1) {
            throw new IllegalArgumentException("invalid model shape: vocab " + vocabSize + ", context " + context + ", layers " + nLayers);
        }
    }

    public static GptConfig preset(String name, int vocabSize, int context) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> new GptConfig("tiny", vocabSize, context, 128, 2, 4);
            case "small" -> new GptConfig("small", vocabSize, context, 256, 4, 4);
            case "pythia-160m" -> new GptConfig("pythia-160m", vocabSize, context, 768, 12, 12);
            case "pythia-410m" -> new GptConfig("pythia-410m", vocabSize, context, 1024, 24, 16);
            case "pythia-1b" -> new GptConfig("pythia-1b", vocabSize, context, 2048, 16, 8);
            default -> throw new IllegalArgumentException(
                    "model.preset: unknown preset '" + name + "'; choose one of " + PRESETS);
        };
    }

    public int headDim() {
        return dModel / nHeads;
    }

    /** Trainable parameters (embeddings tied with the output head). */
    public long parameterCount() {
        long perLayer = 4L * dModel // two layer norms
                + 3L * dModel * dModel + 3L * dModel // qkv
                + (long) dModel * dModel + dModel // attention output
                + 4L * dModel * dModel + 4L * dModel // mlp up
                + 4L * dModel * dModel + dModel; // mlp down
        return (long) vocabSize * dModel + (long) context * dModel + nLayers * perLayer + 2L * dModel;
    }
}
