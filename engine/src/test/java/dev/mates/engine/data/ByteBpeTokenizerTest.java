package dev.mates.engine.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ByteBpeTokenizerTest {
    private static final String[] WORDS = {
        "the", "parliament", "commission", "report", "member", "states", "council", "european", "union", "vote",
        "debate", "and", "of", "to", "in", "is", "that", "we", "must", "this", "proposal", "president", "amendment",
    };
    private static List<String> english;
    private static ByteBpeTokenizer tok;

    @BeforeAll
    static void train() {
        english = englishLike(new Random(1), 3000);
        tok = ByteBpeTokenizer.train(english, 600);
    }

    static List<String> englishLike(Random rnd, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder("The");
            int len = 5 + rnd.nextInt(30);
            for (int w = 0; w < len; w++) sb.append(' ').append(WORDS[rnd.nextInt(WORDS.length)]);
            sb.append(". In ").append(1990 + rnd.nextInt(30)).append(", the vote was ").append(rnd.nextInt(500)).append('.');
            out.add(sb.toString());
        }
        return out;
    }

    private static void assertRoundTrip(ByteBpeTokenizer t, String s) {
        assertEquals(s, t.decode(t.encode(s)), () -> "round trip of " + s.codePoints().mapToObj(Integer::toHexString).toList());
    }

    @Test
    void chunksPartitionTheTextAndKeepTheLeadingSpace() {
        String s = "Hello, world!  It's 2024\t\n  über 😀😀 x";
        List<String> chunks = ByteBpeTokenizer.chunksOf(s);
        assertEquals(s, String.join("", chunks));
        assertEquals(List.of("Hello", ",", " world", "!", " ", " It", "'", "s", " 2024", "\t\n ", " über", " 😀😀", " x"), chunks);
        String longRun = "a".repeat(100);
        assertTrue(ByteBpeTokenizer.chunksOf(longRun).stream().allMatch(c -> c.length() <= ByteBpeTokenizer.MAX_CHUNK_CHARS));
    }

    @Test
    void multilingualEmojiAndControlTextRoundTrips() {
        for (String s : List.of("", " ", "Καλημέρα κόσμε", "Здравствуйте, мир", "日本語のテキスト、句読点。", "مرحبا بالعالم",
                "emoji 👩‍👩‍👧 🇪🇺 ✓", "\u0000\u0001\u001f\u007f tab\tcr\r\nend", "e\u0301 combining", "  leading and trailing  ",
                "Σ𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ℌ", "\uFEFFbom")) {
            assertRoundTrip(tok, s);
        }
    }

    @Test
    void randomStringsRoundTrip() {
        Random rnd = new Random(3);
        for (int i = 0; i < 2000; i++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(60);
            while (sb.length() < len) {
                int kind = rnd.nextInt(4);
                int cp = switch (kind) {
                    case 0 -> rnd.nextInt(128);
                    case 1 -> 0x80 + rnd.nextInt(0x780);
                    case 2 -> 0x800 + rnd.nextInt(0xD800 - 0x800);
                    default -> 0x10000 + rnd.nextInt(0x10FFFF - 0x10000);
                };
                sb.appendCodePoint(cp);
            }
            assertRoundTrip(tok, sb.toString());
        }
    }

    @Test
    void deterministicAndSerializable() {
        ByteBpeTokenizer again = ByteBpeTokenizer.train(english, 600);
        assertArrayEquals(tok.toBytes(), again.toBytes());
        ByteBpeTokenizer loaded = ByteBpeTokenizer.fromBytes(tok.toBytes());
        assertArrayEquals(tok.toBytes(), loaded.toBytes());
        assertEquals(tok.vocabSize(), loaded.vocabSize());
        for (String s : english.subList(0, 50)) assertArrayEquals(tok.encode(s), loaded.encode(s));
        // order of the input must not matter: only chunk counts do
        List<String> reversed = new ArrayList<>(english);
        java.util.Collections.reverse(reversed);
        assertArrayEquals(tok.toBytes(), ByteBpeTokenizer.train(reversed, 600).toBytes());
        assertThrows(IllegalArgumentException.class, () -> ByteBpeTokenizer.fromBytes("MBPX".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void vocabSizeIsRespected() {
        assertEquals(600, tok.vocabSize());
        int max = english.stream().flatMapToInt(s -> java.util.Arrays.stream(tok.encode(s))).max().orElseThrow();
        assertTrue(max < 600 && max >= 257, "max id " + max);
        ByteBpeTokenizer bytesOnly = ByteBpeTokenizer.train(english, 257);
        assertEquals(257, bytesOnly.vocabSize());
        assertEquals("abc".length(), bytesOnly.encode("abc").length);
        ByteBpeTokenizer tiny = ByteBpeTokenizer.train(List.of("ab ab"), 4000);
        assertTrue(tiny.vocabSize() < 4000, "stops when no pair occurs twice");
        assertThrows(IllegalArgumentException.class, () -> ByteBpeTokenizer.train(english, 256));
        assertThrows(IllegalArgumentException.class, () -> ByteBpeTokenizer.train(english, 65537));
    }

    @Test
    void compressesEnglish() {
        String s = String.join(" ", englishLike(new Random(99), 20));
        int bytes = s.getBytes(StandardCharsets.UTF_8).length;
        int tokens = tok.encode(s).length;
        assertTrue(tokens * 3 < bytes, tokens + " tokens for " + bytes + " bytes");
    }

    @Test
    void eosDecodesToNothingAndUnknownIdsFail() {
        int[] ids = tok.encode("the vote");
        int[] withEos = java.util.Arrays.copyOf(ids, ids.length + 1);
        withEos[ids.length] = tok.eosId();
        assertEquals(256, tok.eosId());
        assertEquals("the vote", tok.decode(withEos));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {tok.vocabSize()}));
        for (String s : english.subList(0, 100)) {
            for (int id : tok.encode(s)) assertNotEquals(256, id, "EOS never comes out of encode");
        }
    }

    @Test
    void tiesBreakByPairIds() {
        // "ab" and "cd" occur equally often: the pair with the smaller ids must merge first
        ByteBpeTokenizer t = ByteBpeTokenizer.train(List.of("cd", "ab", "cd", "ab"), 258);
        assertArrayEquals(new int[] {257}, t.encode("ab"));
        assertArrayEquals(new int[] {'c', 'd'}, t.encode("cd"));
    }
}
