package dev.mates.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusReaderTest {
    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    private static List<String> ids(List<Document> docs) {
        return docs.stream().map(Document::id).toList();
    }

    /** Reads one file and asserts the single reject is at {@code line} with a reason of the given kind. */
    private Reject readOneBad(String content, long line, String kind) throws IOException {
        Path f = write("in.jsonl", content);
        Rejects rejects = Rejects.inMemory();
        CorpusReader r = new CorpusReader("pool", rejects, null);
        List<Document> docs = r.readAll(List.of(f.toString()));
        assertEquals(List.of("a", "b"), ids(docs), "the good records around the bad one are kept in order");
        assertEquals(2, r.accepted());
        assertEquals(1, rejects.count(), () -> rejects.first(10).toString());
        Reject rej = rejects.first(1).get(0);
        assertEquals(f.toString(), rej.file());
        assertEquals(line, rej.line());
        assertEquals(kind, Rejects.kind(rej.reason()), rej.reason());
        return rej;
    }

    @Test
    void readsFieldsIdsAndMeta() throws IOException {
        Path f = write("a.jsonl", """
                {"id":"x1","text":"hello world","source":"web","score":0.5,"tags":["a","b"],"n":null}
                {"id":42,"text":"numeric id"}
                {"text":"no id here"}
                """);
        List<Document> docs = new CorpusReader("pool", Rejects.inMemory(), null).readAll(List.of(f.toString()));
        assertEquals(3, docs.size());
        Document d = docs.get(0);
        assertEquals("x1", d.id());
        assertEquals("hello world", d.text());
        assertEquals("web", d.meta().get("source"));
        assertEquals("0.5", d.meta().get("score"));
        assertEquals("[\"a\",\"b\"]", d.meta().get("tags"));
        assertEquals("null", d.meta().get("n"));
        assertEquals(4, d.meta().size(), "text and id are not metadata");
        assertEquals("42", docs.get(1).id());
        assertEquals(CorpusReader.derivedId("no id here"), docs.get(2).id());
    }

    @Test
    void derivedIdIsStableAndContentBased() {
        String id = CorpusReader.derivedId("some text");
        assertTrue(id.matches("h[0-9a-f]{16}"), id);
        assertEquals(String.format("h%016x", Hashing.key64("some text")), id);
        assertEquals(id, CorpusReader.derivedId("some text"));
        assertNotEquals(id, CorpusReader.derivedId("some text."));
        // pinned so that a change to the hash, which would silently re-key every stored selection, fails here
        assertEquals(String.format("h%016x", Hashing.mix64(fnv1a("some text"))), id);
    }

    private static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= (b & 0xff);
            h *= 0x100000001b3L;
        }
        return h;
    }

    @Test
    void malformedJson() throws IOException {
        Reject r = readOneBad("{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\": x}\n{\"id\":\"b\",\"text\":\"ok too\"}\n", 2, "malformed JSON");
        assertTrue(r.reason().contains("column"), r.reason());
        assertEquals("{\"id\": x}", r.excerpt());
    }

    @Test
    void trailingGarbageIsMalformed() throws IOException {
        readOneBad("{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"c\",\"text\":\"t\"} junk\n{\"id\":\"b\",\"text\":\"ok too\"}\n", 2, "malformed JSON");
    }

    @Test
    void nonObject() throws IOException {
        readOneBad("{\"id\":\"a\",\"text\":\"ok\"}\n[1,2]\n{\"id\":\"b\",\"text\":\"ok too\"}\n", 2, "not a JSON object");
    }

    @Test
    void missingText() throws IOException {
        readOneBad("{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"b\",\"text\":\"ok too\"}\n{\"id\":\"c\",\"body\":\"x\"}\n", 3, "missing text");
    }

    @Test
    void nonStringText() throws IOException {
        readOneBad("{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"c\",\"text\":17}\n{\"id\":\"b\",\"text\":\"ok too\"}\n", 2, "non-string text");
    }

    @Test
    void emptyText() throws IOException {
        readOneBad("{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"c\",\"text\":\"  \\n \"}\n{\"id\":\"b\",\"text\":\"ok too\"}\n", 2, "empty text");
    }

    @Test
    void blankLinesAreSkippedButCounted() throws IOException {
        // the bad record is on line 4: blank lines still advance the line number
        readOneBad("{\"id\":\"a\",\"text\":\"ok\"}\n\n   \r\n{oops\n{\"id\":\"b\",\"text\":\"ok too\"}\r\n", 4, "malformed JSON");
    }

    @Test
    void invalidUtf8() throws IOException {
        Path f = dir.resolve("bad.jsonl");
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("{\"id\":\"a\",\"text\":\"caf\u00e9\"}\n".getBytes(StandardCharsets.UTF_8));
        b.writeBytes("{\"id\":\"c\",\"text\":\"ab".getBytes(StandardCharsets.UTF_8));
        b.write(0xC3); // a lead byte followed by an ASCII byte: malformed
        b.writeBytes("(\"}\n{\"id\":\"b\",\"text\":\"ok too\"}\n".getBytes(StandardCharsets.UTF_8));
        Files.write(f, b.toByteArray());
        Rejects rejects = Rejects.inMemory();
        List<Document> docs = new CorpusReader("pool", rejects, null).readAll(List.of(f.toString()));
        assertEquals(List.of("a", "b"), ids(docs));
        assertEquals("caf\u00e9", docs.get(0).text());
        Reject r = rejects.first(1).get(0);
        assertEquals(2, r.line());
        assertEquals("invalid UTF-8", Rejects.kind(r.reason()));
        assertTrue(r.reason().contains("byte 21"), r.reason());
    }

    @Test
    void aLineLongerThanTheCapIsOneRejectAndTheRestIsKept() throws IOException {
        // Two overlong lines: one ending in a newline, one at the end of the file without one. Neither is buffered whole.
        Path f = dir.resolve("long.jsonl");
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) 'x');
        try (OutputStream out = Files.newOutputStream(f)) {
            out.write("{\"id\":\"a\",\"text\":\"before\"}\n{\"id\":\"big\",\"text\":\"".getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i <= CorpusReader.MAX_LINE_BYTES >> 20; i++) out.write(chunk);
            out.write("\"}\n{\"id\":\"b\",\"text\":\"after\"}\n".getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i <= CorpusReader.MAX_LINE_BYTES >> 20; i++) out.write(chunk);
        }
        Rejects rejects = Rejects.inMemory();
        List<Document> docs = new CorpusReader("pool", rejects, null).readAll(List.of(f.toString()));
        assertEquals(List.of("a", "b"), ids(docs));
        List<Reject> r = rejects.first(2);
        assertEquals(2, r.size());
        assertEquals(2, r.get(0).line());
        assertTrue(r.get(0).reason().contains("longer than the 64 MiB"), r.get(0).reason());
        assertTrue(r.get(0).reason().contains(Long.toString(CorpusReader.MAX_LINE_BYTES + (1L << 20) + 22)), r.get(0).reason());
        assertEquals(4, r.get(1).line());
    }

    @Test
    void duplicateIdKeepsTheFirst() throws IOException {
        Path f = write("d.jsonl", "{\"id\":\"a\",\"text\":\"first\"}\n{\"id\":\"b\",\"text\":\"ok\"}\n{\"id\":\"a\",\"text\":\"second\"}\n");
        Rejects rejects = Rejects.inMemory();
        List<Document> docs = new CorpusReader("pool", rejects, null).readAll(List.of(f.toString()));
        assertEquals(List.of("a", "b"), ids(docs));
        assertEquals("first", docs.get(0).text());
        Reject r = rejects.first(1).get(0);
        assertEquals(3, r.line());
        assertEquals("duplicate id: a first seen at " + f + ":1", r.reason());
    }

    @Test
    void identicalTextsWithoutIdsAreDuplicates() throws IOException {
        Path f = write("d.jsonl", "{\"text\":\"same\"}\n{\"text\":\"other\"}\n{\"text\":\"same\"}\n");
        Rejects rejects = Rejects.inMemory();
        assertEquals(2, new CorpusReader("pool", rejects, null).readAll(List.of(f.toString())).size());
        assertEquals(3, rejects.first(1).get(0).line());
    }

    @Test
    void checkProblemRejects() throws IOException {
        Path f = write("c.jsonl", "{\"id\":\"a\",\"text\":\"long enough\"}\n{\"id\":\"c\",\"text\":\"tiny\"}\n{\"id\":\"b\",\"text\":\"also long enough\"}\n");
        Rejects rejects = Rejects.inMemory();
        DocumentCheck minLen = d -> d.text().length() < 8 ? "too short: " + d.text().length() + " chars < 8" : null;
        CorpusReader r = new CorpusReader("pool", rejects, minLen);
        assertEquals(List.of("a", "b"), ids(r.readAll(List.of(f.toString()))));
        Reject rej = rejects.first(1).get(0);
        assertEquals(2, rej.line());
        assertEquals("too short: 4 chars < 8", rej.reason());
        assertEquals(1L, rejects.countsByKind().get("too short"));
    }

    @Test
    void truncatedGzipKeepsEarlierRecords() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 2000; i++) sb.append("{\"id\":\"d").append(i).append("\",\"text\":\"document number ").append(i).append(" with some words\"}\n");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(gz)) {
            o.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
        byte[] all = gz.toByteArray();
        Path f = dir.resolve("t.jsonl.gz");
        Files.write(f, Arrays.copyOf(all, all.length / 2));
        Path after = write("u.jsonl", "{\"id\":\"z\",\"text\":\"after the broken file\"}\n");
        Rejects rejects = Rejects.inMemory();
        List<Document> docs = new CorpusReader("pool", rejects, null).readAll(List.of(f.toString(), after.toString()));
        assertEquals(1, rejects.count(), () -> rejects.first(5).toString());
        Reject r = rejects.first(1).get(0);
        int kept = docs.size() - 1;
        assertTrue(kept > 100 && kept < 2000, "kept " + kept);
        for (int i = 0; i < kept; i++) assertEquals("d" + (i + 1), docs.get(i).id());
        assertEquals("z", docs.get(kept).id(), "the files after a truncated one are still read");
        assertEquals(f.toString(), r.file());
        assertEquals(kept + 1, r.line());
        assertEquals("truncated gzip: file ends after line " + kept + "; the records before it are kept", r.reason());
    }

    @Test
    void readsZstdAndGzip() throws IOException {
        String content = "{\"id\":\"a\",\"text\":\"zstd one\"}\n{\"id\":\"b\",\"text\":\"zstd two\"}\n";
        Path z = dir.resolve("x.jsonl.zst");
        try (OutputStream o = new ZstdOutputStream(Files.newOutputStream(z))) {
            o.write(content.getBytes(StandardCharsets.UTF_8));
        }
        Path g = dir.resolve("y.json.gz");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(g))) {
            o.write("{\"id\":\"c\",\"text\":\"gzip\"}".getBytes(StandardCharsets.UTF_8)); // no final newline
        }
        Rejects rejects = Rejects.inMemory();
        List<Document> docs = new CorpusReader("pool", rejects, null).readAll(List.of(z.toString(), g.toString()));
        assertEquals(List.of("a", "b", "c"), ids(docs));
        assertEquals("zstd two", docs.get(1).text());
        assertEquals(0, rejects.count());
    }

    @Test
    void truncatedZstdKeepsEarlierRecords() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 5000; i++) sb.append("{\"id\":\"d").append(i).append("\",\"text\":\"zstd document ").append(i * 7919L % 10007).append("\"}\n");
        ByteArrayOutputStream zs = new ByteArrayOutputStream();
        try (OutputStream o = new ZstdOutputStream(zs)) {
            o.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
        byte[] all = zs.toByteArray();
        Path f = dir.resolve("t.zst");
        Files.write(f, Arrays.copyOf(all, all.length * 2 / 3));
        Rejects rejects = Rejects.inMemory();
        List<Document> docs = new CorpusReader("pool", rejects, null).readAll(List.of(f.toString()));
        assertEquals(1, rejects.count(), () -> rejects.first(5).toString());
        Reject r = rejects.first(1).get(0);
        assertTrue(docs.size() < 5000);
        assertEquals(docs.size() + 1, r.line());
        assertEquals("truncated zstd", Rejects.kind(r.reason()));
    }

    @Test
    void directorySpecReadsDataFilesRecursivelyInPathOrder() throws IOException {
        write("corpus/b.jsonl", "{\"id\":\"b\",\"text\":\"B\"}\n");
        write("corpus/a/z.jsonl", "{\"id\":\"az\",\"text\":\"AZ\"}\n");
        write("corpus/a.jsonl", "{\"id\":\"a\",\"text\":\"A\"}\n");
        write("corpus/notes.txt", "not data\n");
        List<Document> docs = new CorpusReader("pool", Rejects.inMemory(), null).readAll(List.of(dir.resolve("corpus").toString()));
        assertEquals(List.of("a", "az", "b"), ids(docs), "sorted by path string, as ls would list them");
    }

    @Test
    void globSpec() throws IOException {
        write("data/x/1.jsonl", "{\"id\":\"x1\",\"text\":\"one\"}\n");
        write("data/x/y/2.jsonl", "{\"id\":\"x2\",\"text\":\"two\"}\n");
        write("data/3.jsonl", "{\"id\":\"x3\",\"text\":\"three\"}\n");
        write("data/4.json", "{\"id\":\"x4\",\"text\":\"four\"}\n");
        CorpusReader r = new CorpusReader("pool", Rejects.inMemory(), null);
        assertEquals(List.of("x3", "x1", "x2"), ids(r.readAll(List.of(dir + "/data/**/*.jsonl"))));
        CorpusReader flat = new CorpusReader("pool", Rejects.inMemory(), null);
        assertEquals(List.of("x3"), ids(flat.readAll(List.of(dir + "/data/*.jsonl"))));
    }

    @Test
    void missingPathNamesRoleAndPath() {
        String missing = dir.resolve("nope/y.jsonl").toString();
        DataException e = assertThrows(DataException.class,
                () -> new CorpusReader("reference", Rejects.inMemory(), null).readAll(List.of(missing)));
        assertEquals("--reference: no such file or directory: " + missing + " (check the path)", e.getMessage());
    }

    @Test
    void globMatchingNothingAndEmptyDirectoryThrow() throws IOException {
        Files.createDirectories(dir.resolve("empty"));
        write("empty/readme.txt", "x");
        DataException g = assertThrows(DataException.class,
                () -> new CorpusReader("pool", Rejects.inMemory(), null).readAll(List.of(dir + "/empty/*.jsonl")));
        assertTrue(g.getMessage().startsWith("--pool: no files match the glob: " + dir + "/empty/*.jsonl"), g.getMessage());
        DataException d = assertThrows(DataException.class,
                () -> new CorpusReader("heldout", Rejects.inMemory(), null).readAll(List.of(dir.resolve("empty").toString())));
        assertTrue(d.getMessage().startsWith("--heldout: no data files"), d.getMessage());
        assertTrue(d.getMessage().contains(dir.resolve("empty").toString()), d.getMessage());
    }

    @Test
    void unreadableFileIsADataException() throws IOException {
        Path f = write("secret.jsonl", "{\"text\":\"x\"}\n");
        assumeTrue(f.toFile().setReadable(false) && !Files.isReadable(f), "running as a user who can read anything");
        DataException e = assertThrows(DataException.class,
                () -> new CorpusReader("pool", Rejects.inMemory(), null).readAll(List.of(f.toString())));
        assertTrue(e.getMessage().startsWith("--pool: cannot read " + f.toAbsolutePath()), e.getMessage());
    }

    @Test
    void fileThatIsNotGzipIsOneRejectAndReadingGoesOn() throws IOException {
        Path fake = write("fake.jsonl.gz", "{\"id\":\"q\",\"text\":\"plain text, not gzip\"}\n");
        Path ok = write("ok.jsonl", "{\"id\":\"a\",\"text\":\"fine\"}\n");
        Rejects rejects = Rejects.inMemory();
        List<Document> docs = new CorpusReader("pool", rejects, null).readAll(List.of(fake.toString(), ok.toString()));
        assertEquals(List.of("a"), ids(docs));
        Reject r = rejects.first(1).get(0);
        assertEquals(fake.toString(), r.file());
        assertEquals(1, r.line());
        assertEquals("corrupt gzip", Rejects.kind(r.reason()));
    }

    @Test
    void rejectsFileListsEveryBadLine() throws IOException {
        Path f = write("m.jsonl", "{\"text\":\"good\"}\n{bad\n[]\n{\"text\":\"\"}\n");
        Path out = dir.resolve("rejects.jsonl");
        Rejects rejects = new Rejects(out);
        new CorpusReader("pool", rejects, null).readAll(List.of(f.toString()));
        rejects.close();
        List<String> lines = Files.readAllLines(out);
        assertEquals(3, lines.size());
        assertTrue(lines.get(0).startsWith("{\"file\":\"" + f + "\",\"line\":2,\"reason\":\"malformed JSON: "), lines.get(0));
        assertTrue(lines.get(2).contains("\"line\":4,\"reason\":\"empty text"), lines.get(2));
        assertTrue(rejects.summary().startsWith("3 records rejected (empty text 1, malformed JSON 1, not a JSON object 1)"), rejects.summary());
    }

    @Test
    void readFirstStopsAtTheLimit() throws IOException {
        Path f = write("f.jsonl", "{\"text\":\"1\"}\n{\"text\":\"2\"}\n{\"text\":\"3\"}\n{oops\n");
        Rejects rejects = Rejects.inMemory();
        CorpusReader r = new CorpusReader("pool", rejects, null);
        List<Document> docs = r.readFirst(List.of(f.toString()), 2);
        assertEquals(List.of("1", "2"), docs.stream().map(Document::text).toList());
        assertEquals(0, rejects.count(), "lines after the limit are not read");
    }

    @Test
    void readStreamsInFileOrder() throws IOException {
        Path a = write("a.jsonl", "{\"id\":\"1\",\"text\":\"a\"}\n");
        Path b = write("b.jsonl", "{\"id\":\"2\",\"text\":\"b\"}\n");
        List<String> seen = new ArrayList<>();
        new CorpusReader("pool", Rejects.inMemory(), null).read(List.of(b.toString(), a.toString()), d -> seen.add(d.id()));
        assertEquals(List.of("2", "1"), seen);
    }
}
