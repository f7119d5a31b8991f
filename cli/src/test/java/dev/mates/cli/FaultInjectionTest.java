package dev.mates.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.adapters.redis.RedisStateStore;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.cli.cluster.LocalCluster;
import dev.mates.cli.cluster.LocalCluster.ClusterProcess;
import dev.mates.proto.auth.BearerToken;
import dev.mates.proto.auth.Channels;
import dev.mates.proto.auth.TokenFile;
import dev.mates.proto.v1.GetRunRequest;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import dev.mates.proto.v1.TrainerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.resps.StreamPendingEntry;

/**
 * Faults injected into real processes on loopback (redis-server, S3Proxy, two probers, the influence model, two
 * scorers and the trainer, with mutual TLS and tokens), each during the phase it targets, made deterministic by
 * holding the process the phase needs (SIGSTOP) until the run is there. Every disturbed run must end SUCCEEDED
 * and select what an undisturbed run with the same seed selects (≥ 99% overlap per stage: training in two
 * processes may differ in the last float bits), with no shard dead-lettered and no entry of it left in the stream.
 *
 * <p>Short timings so the suite stays in CI's budget: claims go idle after 3 s, the trainer's owner lease is 6 s,
 * lost shards are looked for every 3 s, a probe call's deadline is 20 s. The outage budget stays the default 2 min,
 * so the 30 s Redis pause is inside it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionTest {
    @TempDir
    static Path dir;
    static LocalCluster cluster;
    static ManagedChannel channel;
    static TrainerGrpc.TrainerBlockingStub trainer;
    static JedisPooled redis;

    @BeforeAll
    static void up() throws Exception {
        Path home = Path.of("..").toAbsolutePath().normalize();
        // Scorer reads are configured to block for 10 min: the workers must cut them to the claim-idle time, else
        // a dead scorer's shard waits for the survivor's read to end (the workers case would time out).
        Map<String, String> fast = Map.of("mates.queue.claim-idle", "3s", "mates.scorer.claim-block", "600s",
                "mates.scorer.shutdown-grace", "2s");
        // -Dmates.faults.dir=PATH keeps the cluster's folder (logs, Redis and S3 data) for a look after a failure.
        Path folder = System.getProperty("mates.faults.dir", "").isBlank() ? dir.resolve("cluster")
                : Path.of(System.getProperty("mates.faults.dir")).toAbsolutePath();
        cluster = LocalCluster.start(new LocalCluster.Options(folder, home, LocalCluster.freePortBase(), 2, 2, 1,
                "1500m", List.of(), true)
                .withScorerProperties(fast)
                .withTrainerProperties(Map.of("mates.queue.claim-idle", "3s", "mates.trainer.owner-lease", "6s",
                        "mates.trainer.lost-shard-check", "3s", "mates.trainer.deadline.probe", "20s")));
        channel = Channels.builder(cluster.trainerAddress(), cluster.clientTls())
                .intercept(BearerToken.of(TokenFile.open("test", cluster.tokenFile()))).build();
        trainer = TrainerGrpc.newBlockingStub(channel);
        redis = RedisStateStore.connect(cluster.redisUri());
        RunStatus base = runToEnd(start("f-base"));
        assertEquals(RunState.RUN_STATE_SUCCEEDED, base.getState(), "the undisturbed run: " + base);
    }

    @AfterAll
    static void down() {
        if (redis != null) redis.close();
        if (channel != null) channel.shutdownNow();
        if (cluster != null) cluster.stop();
    }

    static String start(String id) {
        StartRunRequest.Builder req = StartRunRequest.newBuilder().setRunId(id).setQuick(true);
        String[] small = DistributedRunTest.SMALL;
        for (int i = 1; i < small.length; i += 2) req.putConfig(small[i + 1].split("=")[0], small[i + 1].split("=")[1]);
        trainer.startRun(req.build());
        return id;
    }

    static RunStatus status(String id) {
        return trainer.getRun(GetRunRequest.newBuilder().setRunId(id).build());
    }

    /** Polls the run (through trainer restarts) until {@code until} holds; fails if it ends first. */
    static RunStatus awaitRun(String id, String what, Predicate<RunStatus> until) {
        RunStatus s = await(id + ": " + what).atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(20))
                .ignoreExceptionsMatching(FaultInjectionTest::trainerRestarting)
                .until(() -> status(id), st -> until.test(st) || ended(st));
        assertFalse(ended(s) && !until.test(s), id + " ended before " + what + ": " + s);
        return s;
    }

    static Predicate<RunStatus> at(String arm, int stage, String phase) {
        return s -> s.getArm().equals(arm) && s.getStage() == stage && s.getPhase().equals(phase);
    }

    static boolean ended(RunStatus s) {
        return Set.of(RunState.RUN_STATE_SUCCEEDED, RunState.RUN_STATE_FAILED, RunState.RUN_STATE_CANCELLED).contains(s.getState());
    }

    static boolean trainerRestarting(Throwable e) {
        return e instanceof StatusRuntimeException sre && sre.getStatus().getCode() == Status.Code.UNAVAILABLE;
    }

    static RunStatus runToEnd(String id) {
        return await(id + " ends").atMost(Duration.ofSeconds(600)).pollInterval(Duration.ofMillis(250))
                .ignoreExceptionsMatching(FaultInjectionTest::trainerRestarting)
                .until(() -> status(id), FaultInjectionTest::ended);
    }

    static void signal(String signal, long pid) {
        try {
            Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
            assertEquals(0, p.waitFor(), "kill -" + signal + " " + pid + ": " + new String(p.getInputStream().readAllBytes()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static void kill9(String name) {
        ProcessHandle h = cluster.process(name).handle();
        h.destroyForcibly();
        h.onExit().join();
    }

    /** The scoring queue's pending entries, as Redis has them: which consumer holds which. */
    static List<StreamPendingEntry> pending() {
        return redis.xpending("mates:score:shards", "scorers", XPendingParams.xPendingParams("-", "+", 1_000));
    }

    /** After each case: every held process runs again, and no run of the case is left to block the next one. */
    @org.junit.jupiter.api.AfterEach
    void release() {
        for (LocalCluster.ClusterProcess p : cluster.processes()) {
            if (p.handle().isAlive()) signal("CONT", p.pid());
            else cluster.restart(p.name()); // a case that failed mid-way
        }
        for (String id : List.of("f-workers", "f-trainer", "f-writes")) {
            try {
                trainer.cancelRun(dev.mates.proto.v1.CancelRunRequest.newBuilder().setRunId(id).build());
            } catch (StatusRuntimeException notRunning) {
                // ended, or never started
            }
        }
    }

    /** The run ended SUCCEEDED, selected what the undisturbed run selected, dead-lettered nothing and left no entry. */
    static void assertLikeTheUndisturbedRun(String id, RunStatus end) throws IOException {
        assertEquals(RunState.RUN_STATE_SUCCEEDED, end.getState(), id + ": " + end);
        try (S3ObjectStore s3 = new S3ObjectStore(cluster.s3Endpoint(), LocalCluster.ACCESS_KEY, cluster.secretKey(),
                LocalCluster.BUCKET, "us-east-1")) {
            for (int stage = 1; stage <= 2; stage++) {
                List<String> a = DistributedRunTest.ids(s3, "f-base", "mates", stage);
                Set<String> b = new HashSet<>(DistributedRunTest.ids(s3, id, "mates", stage));
                long common = a.stream().filter(b::contains).count();
                assertTrue(common >= 0.99 * a.size(), id + " stage " + stage + " overlap " + common + "/" + a.size());
            }
        }
        List<String> dead = new ArrayList<>();
        redis.xrange("mates:score:dead", "-", "+").forEach(e -> {
            if (e.getFields().getOrDefault("task", "").startsWith(id + "/")) dead.add(e.getFields().toString());
        });
        assertEquals(List.of(), dead, id + ": dead-lettered shards");
        List<String> left = new ArrayList<>();
        redis.xrange("mates:score:shards", "-", "+").forEach(e -> {
            if (e.getFields().getOrDefault("task", "").startsWith(id + "/")) left.add(e.getFields().get("task"));
        });
        assertEquals(List.of(), left, id + ": entries left in the stream");
    }

    /**
     * The workers and the stores fail under a running run, one after the other:
     * <ol>
     *   <li>stage 1, probing: prober-0 is held (SIGSTOP) before the probes go out; once its part of the probes waits
     *       in its socket, it is killed (SIGKILL); the part is probed again on prober-1;</li>
     *   <li>stage 1, scoring: the scorers are held until the shards are queued, then the S3 server is held and the
     *       scorers let go: each claims a shard and cannot finish it (Redis shows it pending there). A holder is
     *       killed and the S3 server let go: the other scorer takes the dead one's shard over after the claim-idle
     *       time, although its reads are configured to block for 10 min (they are cut to the claim-idle time);</li>
     *   <li>stage 2, probing: redis-server is paused (SIGSTOP) for 30 s while prober-1 works (prober-0 is still
     *       dead: the parts meant for it moved to prober-1);</li>
     *   <li>stage 2, fitting: the influence model is held before the fit, killed once the fit request waits in its
     *       socket, and started again (as Kubernetes would); the trainer's retry fits on the new process. The dead
     *       scorer and prober are started again meanwhile;</li>
     *   <li>stage 2, scoring: redis-server is paused for 30 s while the shards wait; trainer and workers ride it out.</li>
     * </ol>
     * Each process is held from the phase before the one it serves, so no phase can slip past the test.
     */
    @Test
    @Order(1) // first: the trainer's channels to the probers are then the ones the baseline run opened
    void workersAndRedisFailDuringARunAndItStillSelectsTheSame() throws Exception {
        String id = start("f-workers");
        // 1. A prober dies with a probe request in flight.
        awaitRun(id, "warm-up", s -> s.getPhase().equals("warmup"));
        ClusterProcess prober0 = cluster.process("prober-0");
        signal("STOP", prober0.pid());
        awaitRun(id, "stage 1 probing", at("mates", 1, "probe"));
        long scorer0 = cluster.process("scorer-0").pid();
        long scorer1 = cluster.process("scorer-1").pid();
        signal("STOP", scorer0); // held for step 2, before any shard of stage 1 exists
        signal("STOP", scorer1);
        await("the probe part sent to prober-0 waits in its socket").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50)).until(() -> bytesWaiting(prober0.port()) > 0);
        kill9("prober-0");

        // 2. A scorer dies holding a shard.
        awaitRun(id, "stage 1 scoring", at("mates", 1, "score"));
        await("stage 1's shards are queued").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> redis.xlen("mates:score:shards") > 0);
        long s3 = cluster.process("s3").pid();
        signal("STOP", s3); // a scorer that claims a shard now cannot finish it
        signal("CONT", scorer0);
        signal("CONT", scorer1);
        List<StreamPendingEntry> held = await("a scorer holds a shard").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50)).until(FaultInjectionTest::pending, p -> !p.isEmpty());
        String holder = held.get(0).getConsumerName(); // the local cluster names scorer-i's workers local-scorer-i-<worker>
        boolean zeroHolds = holder.startsWith("local-scorer-0-");
        assertTrue(zeroHolds || holder.startsWith("local-scorer-1-"), "consumer " + holder + " is neither scorer");
        String dead = zeroHolds ? "scorer-0" : "scorer-1";
        kill9(dead);
        signal("CONT", s3);
        awaitRun(id, "stage 1 past scoring (the survivor took the shard over)", s -> s.getStage() > 1 || !s.getPhase().equals("score"));
        // Held at once, before the run gets there: stage 2's probes (prober-0 is dead, so all of them go to
        // prober-1) and its fit.
        long p1 = cluster.process("prober-1").pid();
        signal("STOP", p1);
        long influence = cluster.process("influence-model").pid();
        signal("STOP", influence);

        // 3. Redis pauses for 30 s while the probers work.
        awaitRun(id, "stage 2 probing", at("mates", 2, "probe"));
        pauseRedis(30, () -> signal("CONT", p1));

        // 4. The influence model dies in the middle of a fit.
        awaitRun(id, "stage 2 fitting", at("mates", 2, "fit"));
        cluster.restart(dead); // as Kubernetes would; the run waits for the held influence model meanwhile
        cluster.restart("prober-0");
        long s0 = cluster.process("scorer-0").pid();
        long s1 = cluster.process("scorer-1").pid();
        signal("STOP", s0); // held for step 5, before stage 2's shards exist
        signal("STOP", s1);
        int influencePort = cluster.process("influence-model").port();
        await("the fit request waits in the influence model's socket").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(50)).until(() -> bytesWaiting(influencePort) > 0);
        kill9("influence-model");
        cluster.restart("influence-model");

        // 5. Redis pauses for 30 s while the stage's shards wait to be scored.
        awaitRun(id, "stage 2 scoring", at("mates", 2, "score"));
        await("stage 2's shards are queued").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> redis.xlen("mates:score:shards") > 0);
        pauseRedis(30, () -> {
            signal("CONT", s0);
            signal("CONT", s1);
        });
        assertLikeTheUndisturbedRun(id, runToEnd(id));
    }

    /**
     * The stores and the trainer fail around the run's writes:
     * <ol>
     *   <li>warm-up: the S3 server is held, and once the shared checkpoint's upload waits in its socket it is killed
     *       (SIGKILL) and started again on the same port and data; the trainer's retry writes the checkpoint;</li>
     *   <li>stage 1, training: redis-server is held; the trainer writes the next stage's checkpoint to S3 and then
     *       waits to record it in Redis. It is killed there, between its object-store and its Redis write, and
     *       started again: the new trainer resumes from the last checkpoint Redis names (stage 1's start) and does
     *       stage 1 again;</li>
     *   <li>stage 1 again, fitting: the influence model is held so the fit lasts, and the trainer is killed there;</li>
     *   <li>stage 1 again, scoring: the stream is deleted while its shards wait (Redis lost the queue); the trainer
     *       enqueues them again within its lost-shard check (3 s here).</li>
     * </ol>
     * (Selecting is one computation in memory and one object write, too short to hold; a kill after that write is
     * step 2's case.)
     */
    @Test
    @Order(3)
    void theStoresAndTheTrainerFailAroundItsWrites() throws Exception {
        String id = start("f-writes");
        // 1. S3 restarts while the warm-up checkpoint is being written.
        awaitRun(id, "warm-up", s -> s.getPhase().equals("warmup"));
        ClusterProcess s3 = cluster.process("s3");
        signal("STOP", s3.pid());
        await("the warm-up checkpoint's upload waits in the S3 server's socket").atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(50)).until(() -> bytesWaiting(s3.port()) > 0);
        kill9("s3");
        cluster.restart("s3");

        // 2. The trainer dies after writing a checkpoint and before recording it.
        awaitRun(id, "stage 1 training", at("mates", 1, "train"));
        try (S3ObjectStore objects = new S3ObjectStore(cluster.s3Endpoint(), LocalCluster.ACCESS_KEY, cluster.secretKey(),
                LocalCluster.BUCKET, "us-east-1")) {
            String prefix = "runs/" + id + "/mates/checkpoints/";
            long before = metas(objects, prefix);
            long redisPid = cluster.process("redis").pid();
            signal("STOP", redisPid);
            try {
                await("stage 2's checkpoint is in S3").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                        .until(() -> metas(objects, prefix) > before);
                kill9("trainer");
            } finally {
                signal("CONT", redisPid);
            }
        }
        long influence = cluster.process("influence-model").pid();
        signal("STOP", influence); // held for step 3: the resumed run's next call there is stage 1's fit
        cluster.restart("trainer");

        // 3. The trainer dies while fitting.
        awaitRun(id, "stage 1 fitting after the restart", s -> s.getResumes() == 1 && at("mates", 1, "fit").test(s));
        kill9("trainer");
        signal("CONT", influence);
        long s0 = cluster.process("scorer-0").pid();
        long s1 = cluster.process("scorer-1").pid();
        signal("STOP", s0); // held for step 4, before the resumed run's shards exist
        signal("STOP", s1);
        cluster.restart("trainer");

        // 4. Redis loses the queue (as after a restart without persistence) while the shards wait: the trainer
        //    notices shards neither done, dead-lettered nor in the stream, and enqueues them again.
        awaitRun(id, "stage 1 scoring after the second restart", s -> s.getResumes() == 2 && at("mates", 1, "score").test(s));
        await("the shards are queued").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                .until(() -> redis.xlen("mates:score:shards") > 0);
        assertEquals(1, redis.del("mates:score:shards"), "the stream and its group deleted");
        signal("CONT", s0);
        signal("CONT", s1);

        RunStatus end = runToEnd(id);
        assertEquals(2, end.getResumes(), "adopted twice: " + end);
        assertLikeTheUndisturbedRun(id, end);
    }

    /** How many complete checkpoints (their meta.json is written last) are under {@code prefix}. */
    static long metas(S3ObjectStore objects, String prefix) {
        return objects.list(prefix).stream().filter(k -> k.endsWith("/meta.json")).count();
    }

    /**
     * Holds redis-server for {@code seconds}: the outage itself (the sleep is the fault's length, not a wait for a
     * condition). {@code during} runs once Redis is held.
     */
    static void pauseRedis(int seconds, Runnable during) throws InterruptedException {
        long pid = cluster.process("redis").pid();
        signal("STOP", pid);
        try {
            during.run();
            Thread.sleep(seconds * 1_000L);
        } finally {
            signal("CONT", pid);
        }
    }

    /**
     * Bytes received but not yet read by the process listening on {@code port} (Linux {@code /proc/net/tcp*}: the
     * rx_queue of its established connections): a request sent to a held process waits there.
     */
    static long bytesWaiting(int port) throws IOException {
        long sum = 0;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path f = Path.of(table);
            if (!java.nio.file.Files.exists(f)) continue;
            List<String> lines = java.nio.file.Files.readAllLines(f);
            for (String line : lines.subList(1, lines.size())) {
                String[] c = line.trim().split("\\s+");
                String local = c[1];
                int p = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
                if (p != port || !c[3].equals("01")) continue; // 01: ESTABLISHED
                sum += Long.parseLong(c[4].substring(c[4].indexOf(':') + 1), 16);
            }
        }
        return sum;
    }

    /**
     * The trainer is killed (SIGKILL) twice in one run and started again each time: while probing (both probers
     * held, so the phase lasts) and, after it resumed, while scoring (both scorers held, the shards queued). The new
     * trainer adopts the run once the dead one's owner lease has lapsed and resumes it from its last completed stage.
     */
    @Test
    @Order(2)
    void theTrainerIsKilledWhileProbingAndWhileScoring() throws Exception {
        String id = start("f-trainer");
        long p0 = cluster.process("prober-0").pid();
        long p1 = cluster.process("prober-1").pid();
        awaitRun(id, "warm-up", s -> s.getPhase().equals("warmup"));
        signal("STOP", p0);
        signal("STOP", p1);
        awaitRun(id, "stage 1 probing", at("mates", 1, "probe"));
        kill9("trainer");
        signal("CONT", p0);
        signal("CONT", p1);
        long s0 = cluster.process("scorer-0").pid();
        long s1 = cluster.process("scorer-1").pid();
        signal("STOP", s0); // held before the resumed run can reach scoring
        signal("STOP", s1);
        cluster.restart("trainer");

        awaitRun(id, "stage 1 scoring after the restart", s -> s.getResumes() == 1 && at("mates", 1, "score").test(s));
        await("the shards are queued").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> redis.xlen("mates:score:shards") > 0);
        kill9("trainer");
        signal("CONT", s0);
        signal("CONT", s1);
        cluster.restart("trainer");

        RunStatus end = runToEnd(id);
        assertEquals(2, end.getResumes(), "adopted twice: " + end);
        assertLikeTheUndisturbedRun(id, end);
    }
}
