package dev.mates.engine.pipeline;

import dev.mates.engine.data.ByteBpeTokenizer;
import dev.mates.engine.data.CorpusReader;
import dev.mates.engine.data.DataException;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.util.ArrayList;
import java.util.List;

/**
 * The data of a run, read and tokenized once: the candidate pool (with each document's tokens), the reference
 * set D_ref and the held-out set. The tokenizer is trained on the reference set plus the first documents of the
 * pool; documents longer than {@code data.max_doc_tokens} (default: the context) are rejected with file and line.
 */
public record RunInputs(List<Document> pool, int[][] poolTokens, List<Document> reference, List<Document> heldout,
                        Tokenizer tokenizer) {

    public static RunInputs load(List<String> poolSpecs, List<String> referenceSpecs, List<String> heldoutSpecs,
                                 RunConfig cfg, Rejects rejects, Listener listener) {
        if (referenceSpecs.isEmpty()) {
            throw new DataException("--reference: no reference set given. MATES measures influence as the change of the "
                    + "loss on a reference set: pass --reference FILE (JSONL with \"text\", or LAMBADA-style "
                    + "\"context\"/\"target\" records), or run without data flags for the demo");
        }
        List<Document> reference = new CorpusReader("reference", rejects, null, listener).readAll(referenceSpecs);
        if (reference.isEmpty()) {
            throw new DataException("--reference " + String.join(" ", referenceSpecs)
                    + ": no usable record (see the rejects file); the run cannot measure influence without one");
        }
        List<String> sample = new ArrayList<>();
        for (Document d : reference) sample.add(d.text());
        for (Document d : new CorpusReader("pool", new Rejects(null), null).readFirst(poolSpecs, cfg.getInt("tokenizer.sample_docs"))) {
            sample.add(d.text());
        }
        Progress bar = new Progress(listener, "tokenizer", 0, "docs");
        Tokenizer tok = ByteBpeTokenizer.train(sample, cfg.getInt("tokenizer.vocab"));
        bar.step(sample.size());
        bar.done("byte-level BPE, vocabulary " + tok.vocabSize());

        int context = cfg.getInt("model.context");
        int maxTokens = cfg.getInt("data.max_doc_tokens") > 0 ? cfg.getInt("data.max_doc_tokens") : context;
        List<int[]> tokens = new ArrayList<>();
        List<Document> pool = new ArrayList<>();
        Document[] checked = new Document[1];
        int[][] checkedTokens = new int[1][];
        new CorpusReader("pool", rejects, d -> {
            int[] t = tok.encode(d.text());
            if (t.length > maxTokens) {
                return "document longer than the context: " + t.length + " tokens > " + maxTokens
                        + " (split documents upstream, or raise data.max_doc_tokens / model.context)";
            }
            checked[0] = d;
            checkedTokens[0] = t;
            return null;
        }, listener).read(poolSpecs, d -> {
            // The reader may still reject a checked record (e.g. a duplicate id): take tokens only for accepted ones.
            tokens.add(checked[0] == d ? checkedTokens[0] : tok.encode(d.text()));
            pool.add(d);
        });
        if (pool.isEmpty()) {
            throw new DataException("--pool " + String.join(" ", poolSpecs) + ": no usable document (see the rejects file)");
        }
        if (!heldoutSpecs.isEmpty()) {
            List<Document> heldout = new CorpusReader("heldout", rejects, null, listener).readAll(heldoutSpecs);
            return new RunInputs(pool, tokens.toArray(int[][]::new), reference, heldout, tok);
        }
        // No --heldout: hold out the pool's last documents (5%, at most 256) so held-out loss is still reported.
        int n = Math.min(256, Math.max(1, pool.size() / 20));
        listener.log("note: no --heldout given; holding out the last " + n + " pool documents for held-out loss");
        List<Document> heldout = new ArrayList<>(pool.subList(pool.size() - n, pool.size()));
        List<Document> rest = new ArrayList<>(pool.subList(0, pool.size() - n));
        return new RunInputs(rest, tokens.subList(0, rest.size()).toArray(int[][]::new), reference, heldout, tok);
    }
}
