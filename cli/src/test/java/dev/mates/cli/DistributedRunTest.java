package dev.mates.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.cli.cluster.LocalCluster;
import dev.mates.proto.auth.BearerToken;
import dev.mates.proto.auth.Channels;
import dev.mates.proto.auth.TokenFile;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.proto.v1.GetRunRequest;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import dev.mates.proto.v1.TrainerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole distributed system as separate processes on loopback: real redis-server, S3Proxy, two oracle probers,
 * the influence model, two scorer processes and the trainer, driven by `mates run --remote`. Needs the services
 * packaged (the reactor builds services/ before cli/).
 */
class DistributedRunTest {
    static final String[] SMALL = {"--quick", "--set", "mates.warmup_steps=20", "--set", "mates.stage_steps=10",
        "--set", "oracle.probes=24", "--set", "oracle.fidelity_probes=0", "--set", "eval.interval=10"};

    @TempDir
    static Path dir;
    static LocalCluster cluster;
    static ManagedChannel channel;

    @BeforeAll
    static void up() throws IOException {
        Path home = Path.of("..").toAbsolutePath().normalize();
        // With mutual TLS on every gRPC port (`mates cluster up --tls`), as a deployment with certificates runs.
        cluster = LocalCluster.start(new LocalCluster.Options(dir.resolve("cluster"), home, LocalCluster.freePortBase(), 2, 2, 1,
                "1500m", List.of(), true));
        channel = Channels.builder(cluster.trainerAddress(), cluster.clientTls())
                .intercept(BearerToken.of(TokenFile.open("test", cluster.tokenFile()))).build();
    }

    @AfterAll
    static void down() {
        if (channel != null) channel.shutdownNow();
        if (cluster != null) cluster.stop();
    }

    /** {@code args} with the cluster's client certificate for mutual TLS. */
    static String[] withTls(String... args) {
        Channels.Tls t = cluster.clientTls();
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--tls-ca", t.ca().toString(), "--tls-cert", t.cert().toString(), "--tls-key", t.key().toString()));
        return a.toArray(String[]::new);
    }

    static S3ObjectStore store() {
        return new S3ObjectStore(cluster.s3Endpoint(), LocalCluster.ACCESS_KEY, cluster.secretKey(), LocalCluster.BUCKET, "us-east-1");
    }

    static List<String> ids(S3ObjectStore s3, String run, String arm, int stage) throws IOException {
        JsonNode m = new ObjectMapper().readTree(RunArtifacts.require(s3, StorageLayout.manifestKey(run, arm, stage)));
        List<String> out = new ArrayList<>();
        m.get("ids").forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void secretsStayOffCommandLinesAndInOwnerOnlyFiles() throws IOException {
        List<String> secrets = List.of(cluster.secretKey(), TokenFile.open("t", cluster.tokenFile()).token(),
                TokenFile.open("t", cluster.tokenFile().resolveSibling(LocalCluster.INTERNAL_TOKEN_FILE)).token());
        // 2 probers, the influence model, 2 scorers, the trainer, then redis-server and S3Proxy
        assertEquals(List.of("prober-0", "prober-1", "influence-model", "scorer-0", "scorer-1", "trainer", "redis", "s3"),
                cluster.processes().stream().map(LocalCluster.ClusterProcess::name).toList());
        for (LocalCluster.ClusterProcess p : cluster.processes()) {
            String cmd = String.join(" ", p.handle().info().arguments().orElseThrow());
            assertTrue(p.name().equals("redis") || cmd.contains("-jar"), p.name() + ": " + cmd);
            for (String secret : secrets) assertFalse(cmd.contains(secret), p.name() + "'s command line holds a secret");
        }
        Path d = cluster.tokenFile().getParent();
        for (Path f : List.of(d, d.resolve(LocalCluster.TOKEN_FILE), d.resolve(LocalCluster.INTERNAL_TOKEN_FILE),
                d.resolve(LocalCluster.S3_SECRET_FILE), d.resolve("s3").resolve("s3proxy.properties"),
                d.resolve(LocalCluster.TLS_DIR).resolve("server/tls.key"), d.resolve(LocalCluster.TLS_DIR).resolve("client/tls.key"))) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
            assertTrue(perms.stream().noneMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")),
                    f + " is readable by others: " + perms);
        }
    }

    @Test
    void clusterStatusListsEveryProcessAlive() {
        Captured c = Captured.run("cluster", "status", "--dir", cluster.tokenFile().getParent().toString());
        assertEquals(0, c.code(), c.toString());
        for (LocalCluster.ClusterProcess p : cluster.processes()) {
            String health = p.managementPort() > 0 ? "ready" : "listening";
            assertTrue(c.out().lines().anyMatch(l -> l.matches(p.name() + "\\s+" + p.pid() + "\\s+" + p.port() + "\\s+\\S+\\s+yes\\s+" + health)),
                    p + "\n" + c.out());
        }
    }

    /** cancel, watch, status and resume of `mates` on the real trainer; the run ends cancelled, so the trainer is free again. */
    @Test
    void cancelWatchStatusAndResumeARun() throws Exception {
        TrainerGrpc.TrainerBlockingStub trainer = TrainerGrpc.newBlockingStub(channel);
        StartRunRequest.Builder req = StartRunRequest.newBuilder().setRunId("it-lifecycle").setQuick(true);
        for (int i = 1; i < SMALL.length; i += 2) req.putConfig(SMALL[i + 1].split("=")[0], SMALL[i + 1].split("=")[1]);
        trainer.startRun(req.build());
        GetRunRequest get = GetRunRequest.newBuilder().setRunId("it-lifecycle").build();
        String[] auth = {"--remote", cluster.trainerAddress(), "--token-file", cluster.tokenFile().toString()};
        await("it-lifecycle running").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> trainer.getRun(get).getState() == RunState.RUN_STATE_RUNNING);
        Captured c = Captured.run(withTls(cat(new String[] {"cancel", "it-lifecycle"}, auth)));
        assertEquals(0, c.code(), c.toString());
        await("it-lifecycle cancelled").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> trainer.getRun(get).getState() == RunState.RUN_STATE_CANCELLED);

        c = Captured.run(withTls(cat(new String[] {"watch", "it-lifecycle"}, auth)));
        assertEquals(4, c.code(), c.toString());
        c = Captured.run(withTls(cat(new String[] {"status", "it-lifecycle"}, auth)));
        assertEquals(0, c.code(), c.toString());
        assertTrue(c.out().startsWith("run it-lifecycle: CANCELLED"), c.toString());
        c = Captured.run(withTls(cat(new String[] {"cancel", "it-lifecycle"}, auth)));
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().startsWith("error: FAILED_PRECONDITION: "), c.toString());
        c = Captured.run(withTls(cat(new String[] {"status", "it-nope"}, auth)));
        assertEquals(2, c.code(), c.toString());
        assertTrue(c.err().startsWith("error: NOT_FOUND: "), c.toString());

        c = Captured.run(withTls(cat(new String[] {"resume", "it-lifecycle", "--detach"}, auth)));
        assertEquals(0, c.code(), c.toString());
        // `mates watch` follows the resumed run live until it ends: cancelled again from another client.
        Thread canceller = new Thread(() -> {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> trainer.getRun(get).getState() == RunState.RUN_STATE_RUNNING);
            trainer.cancelRun(dev.mates.proto.v1.CancelRunRequest.newBuilder().setRunId("it-lifecycle").build());
        });
        canceller.start();
        c = Captured.run(withTls(cat(new String[] {"watch", "it-lifecycle"}, auth)));
        canceller.join();
        assertEquals(4, c.code(), c.toString());
        assertTrue(c.out().startsWith("run it-lifecycle: CANCELLED") && c.out().contains("resumes 1"), c.toString());
    }

    static String[] cat(String[] a, String[] b) {
        List<String> l = new ArrayList<>(List.of(a));
        l.addAll(List.of(b));
        return l.toArray(String[]::new);
    }

    @Test
    void theCliNeedsAValidToken() throws IOException {
        Path out = dir.resolve("out-unauthenticated");
        // No --token-file, no MATES_TOKEN (CI does not set it) and no .mates-cluster here: refused before anything runs.
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("MATES_TOKEN") == null);
        assertEquals(2, Main.run(withTls("run", "--remote", cluster.trainerAddress(), "--run-id", "it-no-token", "--out",
                out.toString(), "--quick")));
        Path wrong = Files.writeString(dir.resolve("wrong-token"), "wrong-token-0123456789abcdef0123\n");
        assertEquals(2, Main.run(withTls("run", "--remote", cluster.trainerAddress(), "--token-file", wrong.toString(),
                "--run-id", "it-wrong-token", "--out", out.toString(), "--quick")));
        // The right token without TLS: the trainer serves TLS only.
        assertEquals(2, Main.run("run", "--remote", cluster.trainerAddress(), "--token-file", cluster.tokenFile().toString(),
                "--run-id", "it-plaintext", "--out", out.toString(), "--quick"));
        ManagedChannel plain = ManagedChannelBuilder.forTarget(cluster.trainerAddress()).usePlaintext()
                .intercept(BearerToken.of(TokenFile.open("test", cluster.tokenFile()))).build();
        try {
            StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(StatusRuntimeException.class,
                    () -> TrainerGrpc.newBlockingStub(plain).getRun(GetRunRequest.newBuilder().setRunId("it-straight").build()));
            assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
        } finally {
            plain.shutdownNow();
        }
        try (S3ObjectStore s3 = store()) {
            assertEquals(List.of(), s3.list("runs/it-no-token/"));
            assertEquals(List.of(), s3.list("runs/it-wrong-token/"));
            assertEquals(List.of(), s3.list("runs/it-plaintext/"));
        }
    }

    @Test
    void quickRunThroughTheServicesWritesTheReportAndSurvivesATrainerKill() throws Exception {
        Path out = dir.resolve("out");
        List<String> args = new ArrayList<>(List.of(withTls("run", "--remote", cluster.trainerAddress(), "--run-id", "it-straight",
                "--token-file", cluster.tokenFile().toString(), "--out", out.toString())));
        args.addAll(List.of(SMALL));
        assertEquals(0, Main.run(args.toArray(String[]::new)));
        JsonNode report = new ObjectMapper().readTree(out.resolve(StorageLayout.reportKey("it-straight")).toFile());
        assertTrue(report.get("distributed").asBoolean());
        assertEquals(2, report.get("stages").size());
        assertTrue(report.at("/arms/mates/final_reference_loss").isNumber());
        assertTrue(report.at("/arms/random/final_reference_loss").isNumber());
        assertEquals(24, report.at("/stages/0/oracle/count").asInt());
        assertTrue(Files.size(out.resolve(StorageLayout.reportHtmlKey("it-straight"))) > 1000);

        // The same run again, with the trainer killed (SIGKILL) in the middle of stage 1's training.
        TrainerGrpc.TrainerBlockingStub trainer = TrainerGrpc.newBlockingStub(channel);
        StartRunRequest.Builder req = StartRunRequest.newBuilder().setRunId("it-killed").setQuick(true)
                .putConfig("mates.warmup_steps", "20").putConfig("mates.stage_steps", "10").putConfig("oracle.probes", "24")
                .putConfig("oracle.fidelity_probes", "0").putConfig("eval.interval", "10");
        trainer.startRun(req.build());
        GetRunRequest getKilled = GetRunRequest.newBuilder().setRunId("it-killed").build();
        RunStatus s = await("it-killed training stage 1 of the mates arm, or no longer running")
                .atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(200))
                .until(() -> trainer.getRun(getKilled), st -> (st.getPhase().equals("train") && st.getStage() == 1
                        && st.getArm().equals("mates")) || st.getState() != RunState.RUN_STATE_RUNNING);
        assertEquals(RunState.RUN_STATE_RUNNING, s.getState(), "run should be training stage 1: " + s);
        ProcessHandle killed = cluster.process("trainer").handle();
        killed.destroyForcibly();
        killed.onExit().get();
        cluster.restart("trainer"); // the new trainer resumes every run Redis lists as active
        s = await("it-killed no longer running after the trainer's restart").atMost(Duration.ofSeconds(600))
                .pollInterval(Duration.ofMillis(500))
                .ignoreExceptionsMatching(e -> e instanceof StatusRuntimeException sre
                        && sre.getStatus().getCode() == Status.Code.UNAVAILABLE) // while the new trainer starts
                .until(() -> trainer.getRun(getKilled), st -> st.getState() != RunState.RUN_STATE_RUNNING);
        assertEquals(RunState.RUN_STATE_SUCCEEDED, s.getState(), "resumed run: " + s);
        assertEquals(1, s.getResumes());

        // Same config and seed: the resumed run selects what the uninterrupted one selected (stage 1 is taken
        // before the kill point; stage 2 after the resume). Training in two processes may differ in the last float
        // bits (thread reduction order), so sets are compared with the documented ≥ 99% overlap.
        try (S3ObjectStore s3 = store()) {
            for (int stage = 1; stage <= 2; stage++) {
                List<String> a = ids(s3, "it-straight", "mates", stage);
                Set<String> b = new HashSet<>(ids(s3, "it-killed", "mates", stage));
                long common = a.stream().filter(b::contains).count();
                assertTrue(common >= 0.99 * a.size(), "stage " + stage + " overlap " + common + "/" + a.size());
            }
        }
    }
}
