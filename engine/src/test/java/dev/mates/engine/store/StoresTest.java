package dev.mates.engine.store;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoresTest {
    @Test
    void folderStoreRoundTripsListsAndLeavesNoTempFiles(@TempDir Path dir) throws Exception {
        FolderObjectStore s = new FolderObjectStore(dir);
        s.put("runs/a/stages/1/selection.json", "{}".getBytes());
        s.put("runs/a/stages/1/selection.json", "{\"v\":2}".getBytes());
        s.put("runs/a/checkpoints/step-10/model", new byte[] {1, 2, 3});
        assertArrayEquals("{\"v\":2}".getBytes(), s.get("runs/a/stages/1/selection.json").orElseThrow());
        assertTrue(s.get("runs/a/missing").isEmpty());
        assertEquals(List.of("runs/a/checkpoints/step-10/model", "runs/a/stages/1/selection.json"), s.list("runs/a/"));
        try (var files = Files.walk(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")));
        }
        assertThrows(IllegalArgumentException.class, () -> s.put("../escape", new byte[0]));
    }

    @Test
    void stateStoreMergesFields() {
        InMemoryStateStore s = new InMemoryStateStore();
        s.put("run:x", Map.of("phase", "warmup", "step", "0"));
        s.put("run:x", Map.of("step", "10"));
        assertEquals(Map.of("phase", "warmup", "step", "10"), s.get("run:x"));
        assertEquals(Map.of(), s.get("run:y"));
    }

    @Test
    void createIfAbsentCreatesOnceAndLeasesHaveOneOwnerUntilTheyExpire() throws Exception {
        InMemoryStateStore s = new InMemoryStateStore();
        assertTrue(s.createIfAbsent("run:x", Map.of("state", "PENDING")));
        assertFalse(s.createIfAbsent("run:x", Map.of("state", "OTHER")));
        assertEquals(Map.of("state", "PENDING"), s.get("run:x"));

        assertTrue(s.lease("owner:x", "a", 10_000));
        assertTrue(s.lease("owner:x", "a", 10_000), "the owner renews");
        assertFalse(s.lease("owner:x", "b", 10_000), "another owner is refused");
        s.release("owner:x", "b"); // not b's: nothing happens
        assertFalse(s.lease("owner:x", "b", 10_000));
        s.release("owner:x", "a");
        assertTrue(s.lease("owner:x", "b", 50), "free after release");
        Thread.sleep(80);
        assertTrue(s.lease("owner:x", "a", 10_000), "free after expiry");
    }
}
