package dev.mates.engine.pipeline;

import dev.mates.engine.data.DemoCorpus;
import dev.mates.engine.util.Listener;
import java.nio.file.Path;
import java.util.List;

/**
 * The data flags of a run, resolved: with none given, the demo corpus is built under {@code workDir}; a pool
 * without a reference set is an error that says what to pass.
 */
public record RunData(List<String> pool, List<String> reference, List<String> heldout, boolean demo) {

    public static RunData resolve(List<String> pool, List<String> reference, List<String> heldout, RunConfig cfg,
                                  Path workDir, Listener listener) {
        boolean demo = pool.isEmpty() && reference.isEmpty() && heldout.isEmpty();
        if (!demo && pool.isEmpty()) {
            throw new IllegalArgumentException("--pool: missing (give --pool with --reference, or no data flags for the demo)");
        }
        if (!demo) return new RunData(List.copyOf(pool), List.copyOf(reference), List.copyOf(heldout), false);
        Path dir = workDir.resolve("demo");
        listener.log("demo: building the Europarl + web-noise corpus in " + dir);
        DemoCorpus.Files files = DemoCorpus.build(dir, cfg.getLong("seed"), cfg.getInt("demo.max_chars"),
                cfg.getInt("demo.reference_docs"), cfg.getInt("demo.heldout_docs"));
        return new RunData(List.of(files.pool().toString()), List.of(files.reference().toString()),
                List.of(files.heldout().toString()), true);
    }
}
