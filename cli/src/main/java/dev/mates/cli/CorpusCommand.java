package dev.mates.cli;

import dev.mates.engine.data.DemoCorpus;
import dev.mates.engine.data.LongDocumentCorpus;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mates corpus}: writes the corpora the project measures itself on, as ordinary JSONL files a user can read,
 * change and pass to {@code mates run --pool … --reference … --heldout …}. {@code demo} is what {@code mates run}
 * without {@code --pool} builds; {@code long} is a corpus of ordinary long documents (about 350 words each, most
 * longer than the context), built from the same Europarl text but not the demo.
 */
@Command(name = "corpus", mixinStandardHelpOptions = true,
        description = "Write a test corpus (pool.jsonl, reference.jsonl, heldout.jsonl) to a folder.")
public final class CorpusCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "demo | long")
    String kind;

    @Option(names = "--out", required = true, description = "Folder to write the three files into.")
    Path out;

    @Option(names = "--seed", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--docs", description = "long: pool documents (default: ${DEFAULT-VALUE}).")
    int docs = 5000;

    @Option(names = "--words", description = "long: words per document (default: ${DEFAULT-VALUE}).")
    int words = 350;

    @Option(names = "--reference-docs", description = "Reference documents (default: demo 64, long 16: Europarl has few "
            + "English stretches of 350 words, and they are set aside for reference and held-out first).")
    Integer referenceDocs;

    @Option(names = "--heldout-docs", description = "Held-out documents (default: demo 128, long 16).")
    Integer heldoutDocs;

    @Override
    public Integer call() {
        boolean demo = kind.equals("demo");
        int ref = referenceDocs != null ? referenceDocs : demo ? 64 : 16;
        int held = heldoutDocs != null ? heldoutDocs : demo ? 128 : 16;
        DemoCorpus.Files f = switch (kind) {
            case "demo" -> DemoCorpus.build(out, seed, dev.mates.engine.pipeline.RunConfig.defaults(false).getInt("demo.max_chars"),
                    ref, held);
            case "long" -> LongDocumentCorpus.build(out, seed, words, docs, ref, held);
            default -> throw new IllegalArgumentException("corpus: unknown kind '" + kind + "'; choose demo or long");
        };
        System.out.println("wrote " + f.pool() + ", " + f.reference() + ", " + f.heldout());
        System.out.println("run it: ./mates run --pool " + f.pool() + " --reference " + f.reference() + " --heldout " + f.heldout());
        return 0;
    }
}
