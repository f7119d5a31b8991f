package dev.mates.engine.pipeline;

import dev.mates.engine.select.Selector;
import dev.mates.engine.select.Selectors;
import java.util.ArrayList;
import java.util.List;

/** One arm of a run: a name and the selector that chooses its data every stage. */
public record Arm(String name, Selector selector) {

    /** The selector's arm, then the baseline's when there is one ("none" or the same selector: no second arm). */
    public static List<Arm> of(String selector, String baseline, double tau) {
        Selectors.check(selector, baseline);
        List<Arm> arms = new ArrayList<>(List.of(new Arm(selector, Selectors.create(selector, tau))));
        if (!baseline.equals("none") && !baseline.equals(selector)) arms.add(new Arm(baseline, Selectors.create(baseline, tau)));
        return arms;
    }
}
