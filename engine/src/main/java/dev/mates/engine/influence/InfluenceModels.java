package dev.mates.engine.influence;

import java.util.List;

/** The influence-model backbones by their config name ({@code influence.backbone}). */
public final class InfluenceModels {
    public static final List<String> BACKBONES = List.of("ngram", "minilm-int8", "minilm-fp32");

    private InfluenceModels() {}

    public static InfluenceModel create(String backbone, long seed) {
        return switch (backbone == null ? "" : backbone) {
            case "ngram" -> new HashedNgramInfluenceModel(seed);
            case "minilm-int8" -> new EncoderInfluenceModel(true, seed);
            case "minilm-fp32" -> new EncoderInfluenceModel(false, seed);
            default -> throw new IllegalArgumentException(
                    "influence.backbone '" + backbone + "' is unknown; valid: " + String.join(", ", BACKBONES));
        };
    }

    /** Restores a fitted model written by {@link InfluenceModel#save()} of the given backbone. */
    public static InfluenceModel load(String backbone, byte[] state) {
        return switch (backbone == null ? "" : backbone) {
            case "ngram" -> HashedNgramInfluenceModel.load(state);
            case "minilm-int8", "minilm-fp32" -> EncoderInfluenceModel.load(state);
            default -> throw new IllegalArgumentException(
                    "influence.backbone '" + backbone + "' is unknown; valid: " + String.join(", ", BACKBONES));
        };
    }
}
