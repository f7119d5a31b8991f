package dev.mates.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mates.engine.data.DemoCorpus;
import dev.mates.engine.data.LongDocumentCorpus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end: {@code mates run --quick} on the demo, both arms, every report field the docs promise. */
class RunCommandTest {
    @Test
    void quickDemoRunsBothArmsAndWritesTheReport(@TempDir Path out) throws Exception {
        int code = Main.run("run", "--quick", "--out", out.toString(), "--seed", "3");
        assertEquals(0, code);
        Path runDir = out.resolve("runs").resolve("demo-seed3");
        try (var files = Files.walk(out)) {
            assertEquals(List.of(runDir.resolve("report.json")),
                    files.filter(p -> p.getFileName().toString().equals("report.json")).toList(), "exactly one report.json");
        }
        JsonNode r = new ObjectMapper().readTree(runDir.resolve("report.json").toFile());
        List<String> problems = ReportSchema.load(Path.of("..", "docs", "report-schema.md")).problems(r);
        assertEquals(List.of(), problems, "report.json against docs/report-schema.md");
        for (String arm : new String[] {"mates", "random"}) {
            JsonNode a = r.path("arms").path(arm);
            assertTrue(a.path("curve").size() >= 3, arm + " curve");
            for (JsonNode p : a.path("curve")) {
                assertTrue(p.has("tokens") && p.has("reference_loss") && p.has("heldout_loss"), arm + " curve point " + p);
            }
            assertTrue(a.path("final_reference_loss").isNumber(), arm);
            assertTrue(a.path("final_heldout_loss").isNumber(), arm);
            assertTrue(a.path("final_reference_loss").asDouble() < Math.log(2048), arm + " must have learned something");
        }
        // Default budget: equal total FLOPs, the random arm training what MATES spent on selection (within a step).
        assertEquals("flops", r.path("baseline_budget").asText());
        double matesFlops = r.at("/arms/mates/total_flops").asDouble();
        double randomFlops = r.at("/arms/random/total_flops").asDouble();
        assertTrue(randomFlops >= matesFlops && r.at("/arms/random/budget_steps").asInt() > 0, r.path("arms").toString());
        assertTrue(randomFlops - matesFlops < 6.0 * r.path("model_parameters").asDouble() * 8 * 128, "within one step");
        assertTrue(r.has("compute_efficiency"));
        for (JsonNode p : r.at("/arms/mates/curve")) assertTrue(p.path("flops").asDouble() >= 6.0 * r.path("model_parameters").asDouble() * p.path("tokens").asDouble());
        assertEquals(2, r.path("stages").size());
        for (JsonNode s : r.path("stages")) {
            assertTrue(s.path("oracle").path("count").asInt() > 0);
            assertTrue(s.path("oracle").path("seconds").asDouble() > 0);
            assertTrue(s.path("oracle").path("fidelity_spearman").isNumber(), "every stage reports its oracle's fidelity");
            assertEquals("ngram", s.path("influence").path("backbone").asText());
            assertTrue(s.path("influence").has("val_spearman") && s.path("influence").has("val_pearson"));
            assertTrue(s.path("scoring").path("docs").asInt() > 0);
            JsonNode sel = s.path("selection");
            assertTrue(sel.path("k").asInt() > 0 && sel.path("k").asInt() < sel.path("pool").asInt());
            assertEquals(1.0, sel.path("tau").asDouble());
            assertEquals(3, sel.path("seed").asLong());
            assertTrue(sel.path("composition").size() > 0);
            assertTrue(Files.exists(Path.of(sel.path("manifest").asText())));
            assertEquals("random", s.path("baseline_selection").path("selector").asText());
        }
        assertTrue(r.has("token_efficiency"));
        assertTrue(r.path("arms").path("mates").path("selection_overhead_seconds").asDouble() > 0);
        assertTrue(r.path("arms").path("mates").path("selection_overhead_flops").asDouble() > 0);
        assertTrue(r.path("rejects").has("count"));
        String html = Files.readString(runDir.resolve("report.html"));
        assertTrue(html.contains("<svg") && html.contains("Reference loss") && html.contains("Composition")
                && html.contains("Reference loss vs total FLOPs"));
        assertTrue(Files.exists(runDir.resolve("rejects.jsonl")));
        assertEquals(runDir.resolve("rejects.jsonl").toString(), r.path("rejects").path("file").asText());
        try (var ck = Files.walk(out.resolve("runs"))) {
            assertTrue(ck.anyMatch(p -> p.endsWith("meta.json")), "checkpoints are written");
        }
    }

    /** Ordinary ~350-word documents, as is: split into data points, ≤ 1% rejected, the report says so. */
    @Test
    void quickRunOnALongDocumentCorpusSplitsInsteadOfRejecting(@TempDir Path dir) throws Exception {
        DemoCorpus.Files f = LongDocumentCorpus.build(dir.resolve("corpus"), 2, 350, 800, 16, 16);
        Path out = dir.resolve("out");
        assertEquals(0, Main.run("run", "--quick", "--pool", f.pool().toString(), "--reference", f.reference().toString(),
                "--heldout", f.heldout().toString(), "--out", out.toString(), "--set", "selection.pool_multiplier=2"));
        JsonNode r = new ObjectMapper().readTree(out.resolve("runs/run-seed1/report.json").toFile());
        assertEquals(List.of(), ReportSchema.load(Path.of("..", "docs", "report-schema.md")).problems(r));
        JsonNode data = r.path("data");
        assertEquals(800, data.path("pool_documents").asInt());
        assertTrue(r.path("rejects").path("count").asLong() <= 8, "≤ 1% rejected: " + r.path("rejects"));
        assertTrue(data.path("split_documents").asInt() >= 700, data.toString());
        assertTrue(data.path("pool_data_points").asInt() > 2 * 800, data.toString());
        assertTrue(data.path("reference_rows").asInt() > data.path("reference_documents").asInt(), data.toString());
        assertTrue(data.path("heldout_targets").asLong() > 16 * 128, "held-out documents count every token: " + data);
        assertEquals(2, r.path("stages").size());
        for (JsonNode s : r.path("stages")) {
            assertEquals(200, s.path("oracle").path("count").asInt()); // the --quick profile's oracle.probes
            assertEquals("directional", s.path("oracle").path("method").asText());
            assertTrue(s.path("oracle").path("fidelity_spearman").isNumber(), "the fast oracle's fidelity is measured: " + s);
            assertTrue(s.path("influence").path("val_spearman_low").isNumber(), s.toString());
        }
        assertTrue(r.has("compute_efficiency") && r.has("token_efficiency"));
        assertTrue(r.at("/arms/mates/final_reference_loss").asDouble() < Math.log(2048));
    }

    @Test
    void missingReferenceIsRefusedWithAClearMessage(@TempDir Path dir) throws Exception {
        Path pool = Files.writeString(dir.resolve("pool.jsonl"), "{\"text\":\"hello\"}\n");
        String err = runCapturingErr("run", "--pool", pool.toString(), "--out", dir.resolve("o").toString());
        assertTrue(err.contains("--reference"), err);
        assertFalse(err.contains("Exception"), "no stack trace: " + err);
    }

    @Test
    void aReferenceSetWithNoUsableRecordIsRefused(@TempDir Path dir) throws Exception {
        Path pool = Files.writeString(dir.resolve("pool.jsonl"), "{\"text\":\"hello world\"}\n");
        Path ref = Files.writeString(dir.resolve("ref.jsonl"), "{\"text\":\"\"}\nnot json\n");
        String err = runCapturingErr("run", "--pool", pool.toString(), "--reference", ref.toString(),
                "--out", dir.resolve("o").toString());
        assertTrue(err.contains("--reference") && err.contains("no usable record"), err);
        assertTrue(err.contains("rejects: "), err);
        String rejects = Files.readString(dir.resolve("o").resolve("runs").resolve("run-seed1").resolve("rejects.jsonl"));
        assertTrue(rejects.contains("empty text") && rejects.contains("malformed JSON"), rejects);
    }

    @Test
    void unknownConfigKeyNamesFileLineAndKey(@TempDir Path dir) throws Exception {
        Path cfg = Files.writeString(dir.resolve("c.properties"), "# comment\nselection.tau = 0.5\nselection.taux = 1\n");
        String err = runCapturingErr("run", "--quick", "--config", cfg.toString(), "--out", dir.resolve("o").toString());
        assertTrue(err.contains(cfg + ":3") && err.contains("selection.taux") && err.contains("did you mean 'selection.tau'"), err);
    }

    @Test
    void missingPoolPathIsNamed(@TempDir Path dir) throws Exception {
        Path ref = Files.writeString(dir.resolve("ref.jsonl"), "{\"text\":\"the committee\"}\n");
        String err = runCapturingErr("run", "--pool", dir.resolve("nope.jsonl").toString(), "--reference", ref.toString(),
                "--out", dir.resolve("o").toString());
        assertTrue(err.contains("nope.jsonl") && err.contains("--pool"), err);
    }

    private static String runCapturingErr(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            assertEquals(2, code, "a user error exits with 2");
        } finally {
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
