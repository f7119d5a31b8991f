package dev.mates.cli;

import dev.mates.loadtest.LoadReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mates bench-queue}: bulk scoring throughput through the Redis Stream with 1, 2, 4… scorer processes on
 * loopback, as a ratio to the first count measured in the same run ({@code mates loadtest --mode queue} measures the
 * same and also writes JSON and HTML).
 */
@Command(name = "bench-queue", mixinStandardHelpOptions = true,
        description = "Scoring-queue throughput with several scorer processes on this machine (ratio to 1 process).")
public final class QueueBenchCommand implements Callable<Integer> {
    @Mixin
    ScoringQueueBench.Options queue = new ScoringQueueBench.Options();
    @Option(names = "--doc-chars", description = "Characters per document, about (default: ${DEFAULT-VALUE}).")
    int docChars = 400;
    @Option(names = "--backbone", description = "ngram | minilm-int8 | minilm-fp32 (default: ${DEFAULT-VALUE}).")
    String backbone = "minilm-int8";
    @Option(names = "--dir", description = "Work directory (default: a temp dir).")
    Path dir;

    @Override
    public Integer call() throws Exception {
        Path work = dir != null ? dir : Files.createTempDirectory("mates-bench-queue");
        List<LoadReport.QueueResult> r = ScoringQueueBench.run(queue.settings(docChars, backbone, work), System.err);
        System.out.printf(Locale.ROOT, "scoring queue, %s, %d docs in shards of %d, median of %d:%n", backbone, queue.docs,
                queue.shardSize, queue.repeats);
        System.out.print(new LoadReport("queue", "local", Map.of(), 0, List.of(), r).table());
        return 0;
    }
}
