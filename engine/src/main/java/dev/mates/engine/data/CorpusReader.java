package dev.mates.engine.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.ZstdIOException;
import com.github.luben.zstd.ZstdInputStream;
import dev.mates.engine.util.Listener;
import dev.mates.engine.util.Progress;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Reads corpora in the C4/Dolma convention: one JSON object per line, {@code "text"} required, {@code "id"}
 * optional, every other field kept as metadata. Files may be plain, gzip or zstd compressed.
 *
 * <p>A bad record never stops the read: it becomes a {@link Reject} with its file and 1-based line and reading goes
 * on. Only problems the user must fix before anything useful can happen (a path that does not exist, a glob that
 * matches nothing, an unreadable file) throw a {@link DataException}.
 *
 * <p>One reader remembers every id it accepted, across calls, so the same record cannot enter twice. A reader is
 * not thread-safe: use one per thread (they may share a {@link Rejects}).
 */
public final class CorpusReader {
    static final List<String> DATA_SUFFIXES = List.of(".jsonl", ".json", ".jsonl.gz", ".json.gz", ".gz", ".jsonl.zst", ".zst");
    private static final int READ_BUFFER = 1 << 16;
    /** A text may be as long as a line may be (Jackson's default cap, 20M characters, would call a long text malformed). */
    private static final JsonFactory JSON_FACTORY = JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder().maxStringLength(64 << 20).build()).build();
    private static final ObjectMapper MAPPER = new ObjectMapper(JSON_FACTORY);

    private final String role;
    private final Rejects rejects;
    private final DocumentCheck check;
    private final Listener listener;
    /** id → where it was first seen, packed as (file number << 40 | line) to keep the map small. */
    private final Map<String, Long> seen = new HashMap<>();
    private final List<String> fileNames = new ArrayList<>();
    private long accepted;

    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private char[] chars = new char[4096];

    /**
     * @param role the flag the specs came from ("pool", "reference", "heldout"), named in every error message
     * @param rejects where bad records go
     * @param checkOrNull an extra rule on accepted records, or null
     */
    public CorpusReader(String role, Rejects rejects, DocumentCheck checkOrNull) {
        this(role, rejects, checkOrNull, Listener.QUIET);
    }

    /** As above, reporting bytes read to {@code listener}. */
    public CorpusReader(String role, Rejects rejects, DocumentCheck checkOrNull, Listener listener) {
        this.role = role;
        this.rejects = rejects;
        this.check = checkOrNull;
        this.listener = listener;
    }

    public List<Document> readAll(List<String> specs) {
        List<Document> docs = new ArrayList<>();
        read(specs, docs::add);
        return docs;
    }

    /** The first {@code limit} accepted documents; stops reading as soon as it has them. */
    public List<Document> readFirst(List<String> specs, int limit) {
        List<Document> docs = new ArrayList<>();
        if (limit <= 0) return docs;
        try {
            read(specs, d -> {
                docs.add(d);
                if (docs.size() >= limit) throw new Enough();
            });
        } catch (Enough e) {
            // the limit was reached; the rest of the input is intentionally left unread
        }
        return docs;
    }

    /** Streams accepted documents to {@code sink} in file order, then line order. */
    public void read(List<String> specs, Consumer<Document> sink) {
        List<Path> files = resolve(specs);
        long totalBytes = 0;
        for (Path f : files) totalBytes += sizeOf(f);
        long before = accepted;
        long rejectedBefore = rejects.count();
        Progress progress = new Progress(listener, role, totalBytes, "bytes");
        boolean complete = false;
        try {
            for (Path f : files) readFile(f, sink, progress);
            complete = true;
        } finally {
            rejects.flush();
            if (complete) {
                progress.done(String.format(Locale.ROOT, "%d documents from %d file%s, %d rejected",
                        accepted - before, files.size(), files.size() == 1 ? "" : "s", rejects.count() - rejectedBefore));
            }
        }
    }

    /** Documents accepted by this reader so far, over all calls. */
    public long accepted() {
        return accepted;
    }

    // ---- resolving specs -------------------------------------------------------------------------------------

    /** Every spec to its files: a file as-is, a directory to its data files, a glob to its matches; each sorted. */
    List<Path> resolve(List<String> specs) {
        if (specs == null || specs.isEmpty()) {
            throw new DataException("--" + role + ": no input given (pass a JSONL file, a directory or a glob)");
        }
        List<Path> files = new ArrayList<>();
        for (String spec : specs) files.addAll(resolve(spec));
        return files;
    }

    private List<Path> resolve(String spec) {
        if (isGlob(spec)) return resolveGlob(spec);
        Path p = Paths.get(spec);
        if (Files.isDirectory(p)) {
            List<Path> found = walk(p, f -> isDataFile(f.getFileName().toString()), spec);
            if (found.isEmpty()) {
                throw new DataException("--" + role + ": no data files (" + String.join(", ", DATA_SUFFIXES)
                        + ") in directory: " + p.toAbsolutePath() + " (point at a folder that holds JSONL files)");
            }
            return found;
        }
        if (!Files.exists(p)) {
            throw new DataException("--" + role + ": no such file or directory: " + p.toAbsolutePath() + " (check the path)");
        }
        return List.of(p);
    }

    private List<Path> resolveGlob(String spec) {
        // the folder before the first wildcard is walked; the rest of the pattern is matched relative to it
        int firstWild = firstWildcard(spec);
        int slash = spec.lastIndexOf('/', firstWild);
        String baseText = slash < 0 ? "." : (slash == 0 ? "/" : spec.substring(0, slash));
        String pattern = spec.substring(slash + 1);
        Path base = Paths.get(baseText);
        if (!Files.isDirectory(base)) {
            throw new DataException("--" + role + ": no such directory: " + base.toAbsolutePath()
                    + " (the folder part of the glob " + spec + " must exist)");
        }
        PathMatcher exact = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        // "**/" should also match zero folders, as in shells with globstar: data/**/*.jsonl matches data/a.jsonl
        PathMatcher flat = pattern.contains("**/")
                ? FileSystems.getDefault().getPathMatcher("glob:" + pattern.replace("**/", ""))
                : exact;
        List<Path> found = walk(base, f -> {
            Path rel = base.relativize(f);
            return exact.matches(rel) || flat.matches(rel);
        }, spec);
        if (found.isEmpty()) {
            throw new DataException("--" + role + ": no files match the glob: " + spec
                    + " (check the pattern; quote it so the shell does not expand it)");
        }
        return found;
    }

    private List<Path> walk(Path base, Predicate<Path> keep, String spec) {
        try (Stream<Path> s = Files.walk(base)) {
            return s.filter(Files::isRegularFile).filter(keep).sorted().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new DataException("--" + role + ": cannot list " + base.toAbsolutePath() + " for " + spec + ": "
                    + e.getMessage() + " (check permissions)", e);
        }
    }

    static boolean isGlob(String spec) {
        return firstWildcard(spec) < spec.length();
    }

    private static int firstWildcard(String spec) {
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == '{') return i;
        }
        return spec.length();
    }

    static boolean isDataFile(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        for (String s : DATA_SUFFIXES) if (lower.endsWith(s)) return true;
        return false;
    }

    private long sizeOf(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw unreadable(f, e);
        }
    }

    private DataException unreadable(Path f, IOException e) {
        String why = e instanceof AccessDeniedException ? "permission denied"
                : e instanceof NoSuchFileException ? "file disappeared" : e.getMessage();
        return new DataException("--" + role + ": cannot read " + f.toAbsolutePath() + ": " + why
                + " (check that the file exists and is readable)", e);
    }

    // ---- reading one file ------------------------------------------------------------------------------------

    private void readFile(Path f, Consumer<Document> sink, Progress progress) {
        String name = f.toString();
        int fileNo = fileNames.size();
        fileNames.add(name);
        String lower = name.toLowerCase(Locale.ROOT);
        String codec = lower.endsWith(".gz") ? "gzip" : lower.endsWith(".zst") ? "zstd" : null;
        LineSink lines = new LineSink(name, fileNo, sink);
        InputStream raw;
        try {
            raw = new CountingStream(Files.newInputStream(f), progress);
        } catch (IOException e) {
            throw unreadable(f, e);
        }
        try (InputStream in = raw) {
            InputStream data;
            try {
                data = codec == null ? in : codec.equals("gzip") ? new GZIPInputStream(in, READ_BUFFER) : new ZstdInputStream(in);
            } catch (IOException e) {
                lines.damaged(codec, e);
                return;
            }
            try (InputStream d = data) {
                splitLines(d, lines);
            } catch (EOFException | ZstdIOException e) {
                if (codec == null) throw unreadable(f, e);
                lines.truncated(codec);
            } catch (java.util.zip.ZipException e) {
                lines.damaged(codec, e);
            }
        } catch (IOException e) {
            throw unreadable(f, e);
        }
    }

    /**
     * The longest line kept (64 MiB): a longer one is one reject, and its bytes are skipped, not buffered, so a
     * multi-gigabyte line without a newline cannot exhaust the memory.
     */
    public static final int MAX_LINE_BYTES = 64 << 20;

    /** Splits on '\n' bytes ourselves so that each line can be decoded strictly and reported with its number. */
    private static void splitLines(InputStream in, LineSink sink) throws IOException {
        byte[] buf = new byte[READ_BUFFER];
        byte[] carry = new byte[0];
        int carryLen = 0;
        long skipping = -1; // while ≥ 0: the bytes of an overlong line seen so far
        byte[] head = null; // its first bytes, for the reject's excerpt
        int n;
        while ((n = in.read(buf)) >= 0) {
            int start = 0;
            for (int i = 0; i < n; i++) {
                if (buf[i] != '\n') continue;
                if (skipping >= 0) {
                    sink.overlong(head, skipping + (i - start));
                    skipping = -1;
                    head = null;
                } else if (carryLen == 0) {
                    sink.line(buf, start, i - start);
                } else if ((long) carryLen + (i - start) > MAX_LINE_BYTES) {
                    sink.overlong(Arrays.copyOf(carry, Math.min(carryLen, 256)), (long) carryLen + (i - start));
                    carryLen = 0;
                } else {
                    carry = append(carry, carryLen, buf, start, i - start);
                    sink.line(carry, 0, carryLen + i - start);
                    carryLen = 0;
                    if (carry.length > (4 << 20)) carry = new byte[0]; // a long line does not keep its buffer for the file
                }
                start = i + 1;
            }
            if (start < n) {
                if (skipping >= 0) {
                    skipping += n - start;
                } else if ((long) carryLen + (n - start) > MAX_LINE_BYTES) {
                    head = carryLen > 0 ? Arrays.copyOf(carry, Math.min(carryLen, 256))
                            : Arrays.copyOfRange(buf, start, start + Math.min(n - start, 256));
                    skipping = (long) carryLen + (n - start);
                    carryLen = 0;
                    carry = new byte[0];
                } else {
                    carry = append(carry, carryLen, buf, start, n - start);
                    carryLen += n - start;
                }
            }
        }
        if (skipping >= 0) sink.overlong(head, skipping);
        else if (carryLen > 0) sink.line(carry, 0, carryLen);
    }

    private static byte[] append(byte[] carry, int carryLen, byte[] src, int off, int len) {
        if (carryLen + len > carry.length) {
            // Callers keep carryLen + len ≤ MAX_LINE_BYTES; doubling stops there.
            byte[] bigger = new byte[(int) Math.max(carryLen + len, Math.min(carry.length * 2L, MAX_LINE_BYTES))];
            System.arraycopy(carry, 0, bigger, 0, carryLen);
            carry = bigger;
        }
        System.arraycopy(src, off, carry, carryLen, len);
        return carry;
    }

    /** Turns the lines of one file into documents or rejects; knows the file and the current line number. */
    private final class LineSink {
        final String file;
        final int fileNo;
        final Consumer<Document> sink;
        long lineNo;

        LineSink(String file, int fileNo, Consumer<Document> sink) {
            this.file = file;
            this.fileNo = fileNo;
            this.sink = sink;
        }

        void overlong(byte[] head, long bytes) {
            lineNo++;
            reject("line of " + bytes + " bytes, longer than the " + (MAX_LINE_BYTES >> 20) + " MiB a record may have "
                    + "(a missing newline?); split the record", new String(head, StandardCharsets.UTF_8));
        }

        void line(byte[] b, int off, int len) {
            lineNo++;
            if (len > 0 && b[off + len - 1] == '\r') len--;
            if (isBlank(b, off, len)) return;
            int nChars = decode(b, off, len);
            if (nChars < 0) {
                int at = -nChars - 1;
                reject("invalid UTF-8: malformed byte sequence at byte " + (at + 1)
                        + " (re-encode the file as UTF-8)", new String(b, off, len, StandardCharsets.UTF_8));
                return;
            }
            JsonNode node;
            try (JsonParser p = JSON_FACTORY.createParser(chars, 0, nChars)) {
                node = MAPPER.readTree(p);
                if (p.nextToken() != null) {
                    reject("malformed JSON: extra content after the value at column "
                            + p.currentTokenLocation().getColumnNr() + " (one object per line)", text(nChars));
                    return;
                }
            } catch (JsonProcessingException e) {
                String msg = e.getOriginalMessage().replace('\n', ' ');
                int col = e.getLocation() != null ? e.getLocation().getColumnNr() : -1;
                reject("malformed JSON: " + msg + (col > 0 ? " at column " + col : ""), text(nChars));
                return;
            } catch (IOException e) {
                reject("malformed JSON: " + e.getMessage(), text(nChars));
                return;
            }
            record(node, nChars);
        }

        private void record(JsonNode node, int nChars) {
            if (node == null || !node.isObject()) {
                reject("not a JSON object: found " + type(node) + " (each line must be one {...} object)", text(nChars));
                return;
            }
            JsonNode t = node.get("text");
            if (t == null) {
                reject("missing text: no \"text\" field (each record needs one)", text(nChars));
                return;
            }
            if (!t.isTextual()) {
                reject("non-string text: \"text\" is " + type(t) + " (it must be a string)", text(nChars));
                return;
            }
            String body = t.textValue();
            if (body.isBlank()) {
                reject("empty text: \"text\" is empty or only whitespace", text(nChars));
                return;
            }
            JsonNode idNode = node.get("id");
            String id;
            if (idNode == null || idNode.isNull()) {
                id = derivedId(body);
            } else if ((idNode.isTextual() && !idNode.textValue().isEmpty()) || idNode.isNumber()) {
                id = idNode.asText();
            } else {
                reject("invalid id: \"id\" is " + (idNode.isTextual() ? "an empty string" : type(idNode))
                        + " (use a non-empty string or a number, or leave it out)", text(nChars));
                return;
            }
            Map<String, String> meta = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String k = e.getKey();
                if (k.equals("text") || k.equals("id")) continue;
                JsonNode v = e.getValue();
                meta.put(k, v.isTextual() ? v.textValue() : v.toString());
            }
            Document doc = new Document(id, body, meta);
            if (check != null) {
                String problem = check.problem(doc);
                if (problem != null) {
                    reject(problem, text(nChars));
                    return;
                }
            }
            Long first = seen.putIfAbsent(id, ((long) fileNo << 40) | lineNo);
            if (first != null) {
                reject("duplicate id: " + id + " first seen at " + fileNames.get((int) (first >>> 40)) + ":"
                        + (first & ((1L << 40) - 1)), text(nChars));
                return;
            }
            accepted++;
            sink.accept(doc);
        }

        void truncated(String codec) {
            rejects.add(new Reject(file, lineNo + 1, "truncated " + codec + ": file ends after line " + lineNo
                    + "; the records before it are kept", ""));
        }

        void damaged(String codec, IOException e) {
            rejects.add(new Reject(file, lineNo + 1, "corrupt " + codec + ": " + e.getMessage() + " after line " + lineNo
                    + "; the records before it are kept", ""));
        }

        private void reject(String reason, String excerpt) {
            rejects.add(new Reject(file, lineNo, reason, Rejects.excerpt(excerpt)));
        }

        private String text(int nChars) {
            return new String(chars, 0, Math.min(nChars, Rejects.MAX_EXCERPT));
        }
    }

    /** Decodes strictly into {@link #chars}; returns the char count, or -(byte offset + 1) of the first bad byte. */
    private int decode(byte[] b, int off, int len) {
        if (chars.length < len) chars = new char[Math.max(len, chars.length * 2)];
        ByteBuffer in = ByteBuffer.wrap(b, off, len);
        CharBuffer out = CharBuffer.wrap(chars);
        utf8.reset();
        CoderResult r = utf8.decode(in, out, true);
        if (r.isError()) return -(in.position() - off) - 1;
        r = utf8.flush(out);
        if (r.isError()) return -(in.position() - off) - 1;
        return out.position();
    }

    private static boolean isBlank(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            if (c != ' ' && c != '\t' && c != '\r' && c != '\f' && c != 0x0b) return false;
        }
        return true;
    }

    private static String type(JsonNode n) {
        if (n == null || n.isNull()) return "null";
        if (n.isArray()) return "an array";
        if (n.isObject()) return "an object";
        if (n.isNumber()) return "a number";
        if (n.isBoolean()) return "a boolean";
        if (n.isTextual()) return "a string";
        return n.getNodeType().toString().toLowerCase(Locale.ROOT);
    }

    /** The id of a record that has none: stable across runs and machines because it depends on the text only. */
    public static String derivedId(String text) {
        String hex = Long.toHexString(Hashing.key64(text));
        return "h" + "0".repeat(16 - hex.length()) + hex;
    }

    /** Stops a read early from inside the sink; never escapes this class. */
    private static final class Enough extends RuntimeException {
        Enough() {
            super(null, null, false, false);
        }
    }

    /** Feeds the progress bar with compressed bytes read, which is what the total is measured in. */
    private static final class CountingStream extends FilterInputStream {
        private final Progress progress;

        CountingStream(InputStream in, Progress progress) {
            super(in);
            this.progress = progress;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) progress.step(1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) progress.step(n);
            return n;
        }
    }
}
