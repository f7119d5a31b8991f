package dev.mates.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DocumentSplitterTest {
    static Tokenizer tok;
    static List<String> texts = new ArrayList<>();

    @BeforeAll
    static void tokenizer() {
        SplittableRandom r = new SplittableRandom(3);
        String[] words = {"the", "committee", "adopted", "report", "é", "naïve", "Straße", "42", "3.14", "🙂", "—", "and", "  ",
            "\n", "x".repeat(70), "a,b;c"};
        for (int d = 0; d < 60; d++) {
            StringBuilder sb = new StringBuilder();
            int n = 5 + r.nextInt(600);
            for (int w = 0; w < n; w++) sb.append(words[r.nextInt(words.length)]).append(r.nextInt(9) == 0 ? "" : " ");
            texts.add(sb.toString());
        }
        tok = ByteBpeTokenizer.train(texts, 400);
    }

    @Test
    void piecesConcatenateToTheDocumentWithNoTokenLostOrDuplicated() {
        for (int max : new int[] {3, 16, 128}) {
            DocumentSplitter splitter = new DocumentSplitter(tok, max);
            for (int i = 0; i < texts.size(); i++) {
                Document d = new Document("doc" + i, texts.get(i), Map.of("source", "s" + (i % 3)));
                List<DocumentSplitter.Piece> pieces = splitter.split(d);
                int[] all = tok.encode(d.text());
                StringBuilder text = new StringBuilder();
                List<Integer> tokens = new ArrayList<>();
                for (int k = 0; k < pieces.size(); k++) {
                    DocumentSplitter.Piece p = pieces.get(k);
                    assertTrue(p.tokens().length <= Math.max(max, 4) && p.tokens().length > 0, "piece " + k + " of doc" + i);
                    assertArrayEquals(tok.encode(p.doc().text()), p.tokens(), "a piece's tokens are its text's tokens");
                    assertEquals(d.meta(), p.doc().meta(), "pieces keep the document's metadata");
                    assertEquals(pieces.size() == 1 ? d.id() : d.id() + "#" + k, p.doc().id());
                    text.append(p.doc().text());
                    for (int t : p.tokens()) tokens.add(t);
                }
                assertEquals(d.text(), text.toString(), "max " + max + ", doc" + i + ": no character lost or duplicated");
                if (max >= 16) {
                    // At chunk boundaries tokens never change: the pieces' tokens are the document's tokens.
                    assertArrayEquals(all, tokens.stream().mapToInt(Integer::intValue).toArray(), "max " + max + ", doc" + i);
                    assertEquals((all.length + max - 1) / max <= pieces.size(), true);
                }
            }
        }
    }

    @Test
    void aDocumentThatFitsIsItself() {
        Document d = new Document("short", "the committee adopted the report", Map.of("source", "x"));
        List<DocumentSplitter.Piece> pieces = new DocumentSplitter(tok, 128).split(d);
        assertEquals(1, pieces.size());
        assertSame(d, pieces.get(0).doc());
    }

    @Test
    void piecesAreFullExceptTheLast() {
        DocumentSplitter splitter = new DocumentSplitter(tok, 32);
        String text = IntStream.range(0, 400).mapToObj(i -> "committee").reduce("", (a, b) -> a + " " + b);
        List<DocumentSplitter.Piece> pieces = splitter.split(new Document("c", text));
        for (int k = 0; k < pieces.size() - 1; k++) {
            assertTrue(pieces.get(k).tokens().length >= 32 - 2, "piece " + k + " has " + pieces.get(k).tokens().length);
        }
    }
}
