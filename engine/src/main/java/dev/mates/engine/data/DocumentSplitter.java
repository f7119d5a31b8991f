package dev.mates.engine.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a document into data points of at most {@code maxTokens} tokens. As in the paper (1,024-token sequences of
 * packed C4), a data point is a piece of text, not a whole document: a longer document is cut into consecutive
 * pieces at the tokenizer's chunk boundaries, so the pieces' texts concatenate to the document's text and their
 * tokens to the document's tokens — nothing is lost or duplicated. Pieces keep the document's metadata and get the
 * id {@code <doc id>#<k>} (k from 0); a document that fits keeps its own id.
 */
public final class DocumentSplitter {
    /** What {@code data.long_documents} does with a document longer than the context. */
    public enum Mode {
        SPLIT, TRUNCATE, REJECT;

        public static Mode parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("data.long_documents must be split, truncate or reject, got '" + s + "'");
            }
        }
    }

    /** One data point: its document (id, text, metadata) and its tokens. */
    public record Piece(Document doc, int[] tokens) {}

    private final Tokenizer tok;
    private final int maxTokens;

    public DocumentSplitter(Tokenizer tok, int maxTokens) {
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
        this.tok = tok;
        this.maxTokens = maxTokens;
    }

    /** The document as pieces of at most maxTokens tokens (one piece, itself, when it fits). */
    public List<Piece> split(Document d) {
        int[] all = tok.encode(d.text());
        if (all.length <= maxTokens) return List.of(new Piece(d, all));
        List<String> texts = new ArrayList<>();
        StringBuilder piece = new StringBuilder();
        int pieceTokens = 0;
        for (String chunk : tok.chunks(d.text())) {
            int n = tok.encode(chunk).length;
            if (n > maxTokens) { // a chunk longer than a piece (a tiny context): cut it by code points
                for (String part : cut(chunk)) {
                    int m = tok.encode(part).length;
                    if (pieceTokens + m > maxTokens && pieceTokens > 0) {
                        texts.add(piece.toString());
                        piece.setLength(0);
                        pieceTokens = 0;
                    }
                    piece.append(part);
                    pieceTokens += m;
                }
                continue;
            }
            if (pieceTokens + n > maxTokens) {
                texts.add(piece.toString());
                piece.setLength(0);
                pieceTokens = 0;
            }
            piece.append(chunk);
            pieceTokens += n;
        }
        if (piece.length() > 0) texts.add(piece.toString());
        List<Piece> out = new ArrayList<>(texts.size());
        for (int k = 0; k < texts.size(); k++) {
            out.add(new Piece(new Document(d.id() + "#" + k, texts.get(k), d.meta()), tok.encode(texts.get(k))));
        }
        return out;
    }

    /** A chunk cut into parts that each encode to at most maxTokens tokens (one code point always does, ≤ 4 bytes). */
    private List<String> cut(String chunk) {
        List<String> parts = new ArrayList<>();
        int i = 0;
        while (i < chunk.length()) {
            int end = i;
            int next = i + Character.charCount(chunk.codePointAt(i));
            do {
                end = next;
                if (end >= chunk.length()) break;
                next = end + Character.charCount(chunk.codePointAt(end));
            } while (tok.encode(chunk.substring(i, next)).length <= maxTokens);
            parts.add(chunk.substring(i, end));
            i = end;
        }
        return parts;
    }
}
