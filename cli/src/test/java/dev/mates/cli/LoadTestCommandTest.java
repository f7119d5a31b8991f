package dev.mates.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.cli.cluster.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mates loadtest}: what it refuses before sending anything, and one short open-loop run against a real scorer
 * process (redis-server, S3Proxy, bearer tokens on) that writes loadtest.json and loadtest.html.
 */
class LoadTestCommandTest {
    @Test
    void refusesNonLoopbackTargetsAndBadCombinations() {
        Captured c = Captured.run("loadtest", "--target", "10.1.2.3:9006", "--model-ref", "runs/r/m.bin");
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().startsWith("error: --target 10.1.2.3:9006: 10.1.2.3 not a loopback address"), c.toString());
        c = Captured.run("loadtest", "--target", "127.0.0.1:9006");
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().contains("needs --model-ref"), c.toString());
        assertEquals(2, Captured.run("loadtest").code(), "neither --target nor --local");
        assertTrue(Captured.run("loadtest", "--local", "--token-file", "t").err().contains("not with --local"));
        assertTrue(Captured.run("loadtest", "--mode", "queue", "--target", "127.0.0.1:1").err().contains("--mode queue starts its own"));
        assertTrue(Captured.run("loadtest", "--local", "--duration", "3x").err().contains("'3x' is not a duration"));
        assertTrue(Captured.run("loadtest", "--local", "--backbone", "bert").err().contains("influence.backbone 'bert' is unknown"));
        c = Captured.run("loadtest", "--local", "--rates", "100000", "--duration", "10m");
        assertTrue(c.err().contains("at most 20000000 per rate"), c.toString());
    }

    @Test
    void twoRatesAgainstARealScorerWithTokens(@TempDir Path dir) throws Exception {
        Path home = Path.of("..").toAbsolutePath().normalize();
        LocalCluster.Options o = new LocalCluster.Options(dir.resolve("cluster"), home, LocalCluster.freePortBase(), 1, 1, 0, "1g")
                .onlyScorers().withScorerProperties(Map.of("mates.scorer.max-batch", "8"));
        try (LocalCluster c = LocalCluster.start(o); S3ObjectStore s3 = ScoringQueueBench.store(c.s3Endpoint(), c.secretKey())) {
            assertEquals(List.of("scorer-0", "redis", "s3"), c.processes().stream().map(LocalCluster.ClusterProcess::name).toList());
            String model = "runs/lt/influence-model/ngram.bin";
            s3.put(model, ScoringQueueBench.fittedModel("ngram", 200));
            String scorer = c.scorerAddresses().get(0);

            Path wrong = Files.writeString(dir.resolve("wrong"), "wrong-token-0123456789abcdef\n");
            Captured refused = Captured.run("loadtest", "--target", scorer, "--model-ref", model, "--backbone", "ngram",
                    "--token-file", wrong.toString(), "--out", dir.resolve("refused").toString());
            assertEquals(2, refused.code(), refused.toString());
            assertTrue(refused.err().contains("UNAUTHENTICATED"), refused.toString());

            Path out = dir.resolve("out");
            Captured run = Captured.run("loadtest", "--target", scorer, "--model-ref", model, "--backbone", "ngram",
                    "--token-file", c.tokenFile().toString(), "--rates", "20,60", "--warmup", "1s", "--duration", "2s",
                    "--docs-per-request", "2", "--doc-chars", "200", "--out", out.toString());
            assertEquals(0, run.code(), run.toString());
            JsonNode j = new ObjectMapper().readTree(out.resolve("loadtest.json").toFile());
            JsonNode rates = j.at("/series/0/rates");
            assertEquals(2, rates.size(), j.toPrettyString());
            for (int i = 0; i < 2; i++) {
                JsonNode r = rates.get(i);
                long due = r.get("due").asLong();
                assertEquals(new long[] {40, 120}[i], due, r.toString()); // rate × 2 s
                long errors = 0;
                for (JsonNode e : r.get("errors")) errors += e.asLong();
                assertEquals(due, r.get("ok").asLong() + errors + r.get("dropped").asLong(), "counts add up: " + r);
                assertEquals(due - r.get("dropped").asLong(), r.get("sent").asLong(), r.toString());
                assertTrue(r.get("ok").asLong() >= 0.9 * due, "a scorer on loopback answers these rates: " + r);
                assertTrue(r.get("achieved_rps").asDouble() > 0, r.toString());
                assertTrue(r.at("/latency_ms/p50").asDouble() > 0
                        && r.at("/latency_ms/p50").asDouble() <= r.at("/latency_ms/p99").asDouble(), r.toString());
                assertTrue(r.at("/batch_size/max").asDouble() >= 2 && r.at("/batch_size/max").asDouble() <= 8,
                        "2 documents per request, max batch 8: " + r);
                assertTrue(r.at("/server_batches/batches").asLong() > 0, "the scorer's metric, read on its management port: " + r);
            }
            String html = Files.readString(out.resolve("loadtest.html"));
            assertTrue(html.contains("Latency vs offered rate") && html.contains("<svg") && html.contains("<polyline"), html);
            assertTrue(run.out().contains("offered/s") && run.out().contains("loadtest.json"), run.toString());
        }
    }
}
