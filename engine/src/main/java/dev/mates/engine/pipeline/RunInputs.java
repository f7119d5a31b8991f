package dev.mates.engine.pipeline;

import dev.mates.engine.data.ByteBpeTokenizer;
import dev.mates.engine.data.CorpusReader;
import dev.mates.engine.data.DataException;
import dev.mates.engine.data.Document;
import dev.mates.engine.data.DocumentSplitter;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.data.Tokenizer;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.util.ArrayList;
import java.util.List;

/**
 * The data of a run, read and tokenized once: the candidate pool as data points (with each one's tokens and the
 * index of the document it comes from), the reference set D_ref and the held-out set. The tokenizer is trained on
 * the reference set plus the first documents of the pool. A pool document longer than {@code data.max_doc_tokens}
 * (default: the context) becomes several data points, its first one, or a reject, as {@code data.long_documents}
 * says ({@link DocumentSplitter}).
 *
 * @param poolDocument for each data point, the index of its document (0-based, in reading order): disjointness of
 *     probes and training holds per document
 * @param poolDocuments documents the pool's data points come from
 * @param splitDocuments documents cut into several data points ({@code split})
 * @param truncatedDocuments documents cut to their first data point ({@code truncate})
 * @param truncatedTokens tokens dropped by truncation
 */
public record RunInputs(List<Document> pool, int[][] poolTokens, int[] poolDocument, int poolDocuments,
                        int splitDocuments, int truncatedDocuments, long truncatedTokens, List<Document> reference,
                        List<Document> heldout, Tokenizer tokenizer) {

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

        int maxTokens = cfg.getInt("data.max_doc_tokens") > 0 ? cfg.getInt("data.max_doc_tokens") : cfg.getInt("model.context");
        DocumentSplitter.Mode mode = DocumentSplitter.Mode.parse(cfg.get("data.long_documents"));
        DocumentSplitter splitter = new DocumentSplitter(tok, maxTokens);
        Pool pool = new Pool();
        List<DocumentSplitter.Piece> checked = new ArrayList<>();
        Document[] checkedDoc = new Document[1];
        new CorpusReader("pool", rejects, d -> {
            checkedDoc[0] = d;
            checked.clear();
            List<DocumentSplitter.Piece> pieces = splitter.split(d);
            if (pieces.size() > 1 && mode == DocumentSplitter.Mode.REJECT) {
                return "document longer than the context: " + d.text().length() + " chars, " + pieces.size()
                        + " pieces of " + maxTokens + " tokens (data.long_documents = split keeps it as pieces)";
            }
            checked.addAll(pieces);
            return null;
        }, listener).read(poolSpecs, d -> {
            // The reader may still reject a checked record (e.g. a duplicate id): take pieces only for accepted ones.
            List<DocumentSplitter.Piece> pieces = checkedDoc[0] == d ? checked : splitter.split(d);
            pool.add(d, pieces, mode);
        });
        if (pool.docs.isEmpty()) {
            throw new DataException("--pool " + String.join(" ", poolSpecs) + ": no usable document (see the rejects file)");
        }
        if (pool.split > 0) listener.log(pool.split + " pool documents longer than " + maxTokens + " tokens were split into "
                + "pieces (data.long_documents = split)");
        if (pool.truncated > 0) listener.warn(pool.truncated + " pool documents were truncated to " + maxTokens + " tokens, "
                + pool.truncatedTokens + " tokens dropped (data.long_documents = truncate)");
        if (!heldoutSpecs.isEmpty()) {
            List<Document> heldout = new CorpusReader("heldout", rejects, null, listener).readAll(heldoutSpecs);
            return pool.inputs(pool.docs.size(), reference, heldout, tok);
        }
        // No --heldout: hold out the pool's last documents (5%, at most 256), every piece of them.
        int n = Math.min(256, Math.max(1, pool.documents / 20));
        int keep = pool.documents - n;
        int firstHeld = 0;
        while (firstHeld < pool.docs.size() && pool.document.get(firstHeld) < keep) firstHeld++;
        listener.log("note: no --heldout given; holding out the last " + n + " pool documents for held-out loss");
        List<Document> heldout = new ArrayList<>(pool.docs.subList(firstHeld, pool.docs.size()));
        return pool.inputs(firstHeld, reference, heldout, tok);
    }

    /** The pool's data points as they are read. */
    private static final class Pool {
        final List<Document> docs = new ArrayList<>();
        final List<int[]> tokens = new ArrayList<>();
        final List<Integer> document = new ArrayList<>();
        int documents;
        int split;
        int truncated;
        long truncatedTokens;

        void add(Document original, List<DocumentSplitter.Piece> pieces, DocumentSplitter.Mode mode) {
            int d = documents++;
            if (pieces.size() > 1 && mode == DocumentSplitter.Mode.TRUNCATE) {
                truncated++;
                for (int k = 1; k < pieces.size(); k++) truncatedTokens += pieces.get(k).tokens().length;
                DocumentSplitter.Piece first = pieces.get(0);
                pieces = List.of(new DocumentSplitter.Piece(new Document(original.id(), first.doc().text(),
                        original.meta()), first.tokens()));
            } else if (pieces.size() > 1) {
                split++;
            }
            for (DocumentSplitter.Piece p : pieces) {
                docs.add(p.doc());
                tokens.add(p.tokens());
                document.add(d);
            }
        }

        /** The first {@code points} data points as the pool; the documents they come from are counted. */
        RunInputs inputs(int points, List<Document> reference, List<Document> heldout, Tokenizer tok) {
            int[] doc = document.subList(0, points).stream().mapToInt(Integer::intValue).toArray();
            int docCount = points == 0 ? 0 : doc[points - 1] + 1;
            return new RunInputs(new ArrayList<>(docs.subList(0, points)), tokens.subList(0, points).toArray(int[][]::new),
                    doc, docCount, split, truncated, truncatedTokens, reference, heldout, tok);
        }
    }
}
