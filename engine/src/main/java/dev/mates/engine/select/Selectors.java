package dev.mates.engine.select;

import java.util.List;

/** The selectors a run can name ({@code --selector}, {@code --baseline}), by name. */
public final class Selectors {
    /** Names accepted by {@code --selector}. */
    public static final List<String> NAMES = List.of("mates", "random", "topk");
    /** Names accepted by {@code --baseline}: a second arm with the same budget and seed, or none. */
    public static final List<String> BASELINES = List.of("random", "none");

    private Selectors() {}

    /** The selector called {@code name}; {@code tau} is the Gumbel-top-k temperature (selection.tau). */
    public static Selector create(String name, double tau) {
        return switch (name) {
            case "mates" -> new GumbelTopKSelector(tau);
            case "random" -> new RandomSelector();
            case "topk" -> new TopKSelector();
            default -> throw new IllegalArgumentException("--selector: unknown '" + name + "'; choose one of " + NAMES);
        };
    }

    /** Checks the selector flags; the error names the flag and the choices. */
    public static void check(String selector, String baseline) {
        if (!NAMES.contains(selector)) {
            throw new IllegalArgumentException("--selector: unknown '" + selector + "'; choose one of " + NAMES);
        }
        if (!BASELINES.contains(baseline)) {
            throw new IllegalArgumentException("--baseline: must be 'random' or 'none', got '" + baseline + "'");
        }
    }
}
