package dev.mates.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RejectsTest {
    @TempDir
    Path dir;

    @Test
    void writesOneJsonLinePerRejectWithBoundedExcerpt() throws IOException {
        Path file = dir.resolve("out/rejects.jsonl");
        Rejects r = new Rejects(file);
        r.add(new Reject("a.jsonl", 3, "malformed JSON: Unexpected character at column 7", "{x"));
        r.add(new Reject("b.jsonl", 9, "empty text: \"text\" is empty", "é".repeat(151) + "😀".repeat(100)));
        r.close();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals(2, lines.size());
        ObjectMapper m = new ObjectMapper();
        JsonNode first = m.readTree(lines.get(0));
        assertEquals("a.jsonl", first.get("file").asText());
        assertEquals(3, first.get("line").asLong());
        assertEquals("malformed JSON: Unexpected character at column 7", first.get("reason").asText());
        assertEquals("{x", first.get("excerpt").asText());
        String excerpt = m.readTree(lines.get(1)).get("excerpt").asText();
        assertTrue(excerpt.length() <= 200, "excerpt of " + excerpt.length());
        assertTrue(excerpt.startsWith("é".repeat(151) + "😀"));
        assertTrue(!Character.isHighSurrogate(excerpt.charAt(excerpt.length() - 1)), "no half emoji at the end");
    }

    @Test
    void countsByKindAndSummary() {
        Rejects r = new Rejects(dir.resolve("rejects.jsonl"));
        r.add(new Reject("f", 1, "malformed JSON: a", ""));
        r.add(new Reject("f", 2, "empty text", ""));
        r.add(new Reject("f", 3, "malformed JSON: b: c", ""));
        r.close();
        assertEquals(3, r.count());
        assertEquals(Map.of("malformed JSON", 2L, "empty text", 1L), r.countsByKind());
        assertEquals(List.of("malformed JSON", "empty text"), new ArrayList<>(r.countsByKind().keySet()), "most frequent first");
        assertEquals("3 records rejected (malformed JSON 2, empty text 1) — see " + dir.resolve("rejects.jsonl"), r.summary());
        assertEquals(2, r.first(2).size());
        assertEquals(2, r.first(2).get(1).line());
        assertEquals(3, r.first(10).size());
        assertEquals("no records rejected", Rejects.inMemory().summary());
    }

    @Test
    void concurrentAddsAreAllCounted() throws Exception {
        Path file = dir.resolve("rejects.jsonl");
        Rejects r = new Rejects(file);
        List<Thread> threads = IntStream.range(0, 4).mapToObj(t -> new Thread(() -> {
            for (int i = 0; i < 2500; i++) r.add(new Reject("t" + t, i + 1, "kind" + (i % 3) + ": x", "e"));
        })).toList();
        threads.forEach(Thread::start);
        for (Thread t : threads) t.join();
        r.close();
        assertEquals(10_000, r.count());
        assertEquals(10_000, Files.readAllLines(file).size());
        assertEquals(10_000L, r.countsByKind().values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void unwritableFileIsADataException() throws IOException {
        Path blocker = Files.writeString(dir.resolve("file"), "x");
        DataException e = assertThrows(DataException.class, () -> new Rejects(blocker.resolve("rejects.jsonl")));
        assertTrue(e.getMessage().contains(blocker.resolve("rejects.jsonl").toString()), e.getMessage());
    }
}
