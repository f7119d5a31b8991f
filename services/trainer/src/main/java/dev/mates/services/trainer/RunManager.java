package dev.mates.services.trainer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.pipeline.Pipeline;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.pipeline.RunData;
import dev.mates.engine.pipeline.RunInputs;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StateStore;
import dev.mates.proto.v1.Progress;
import dev.mates.proto.v1.RunEvent;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import dev.mates.services.common.GrpcErrors;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import redis.clients.jedis.JedisPooled;

/**
 * Owns the runs of this trainer: starts each in its own thread running the engine's {@link Pipeline} with
 * {@link RemoteRoles}, keeps its state in Redis (hash {@code run:{id}}: state, phase, arm, stage, step,
 * checkpoint, spec…; set {@code runs:active}), publishes progress to watchers, and on start-up resumes every run
 * that was active when the previous trainer process died.
 */
@ApplicationScoped
public class RunManager {
    static final Pattern RUN_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    @Inject
    ObjectStore objects;
    @Inject
    S3ObjectStore s3;
    @Inject
    StateStore state;
    @Inject
    JedisPooled jedis;
    @Inject
    RedisShardQueue queue;
    @Inject
    MeterRegistry registry;
    @ConfigProperty(name = "mates.redis.key-prefix", defaultValue = "mates:")
    String prefix;
    @ConfigProperty(name = "mates.trainer.probers", defaultValue = "127.0.0.1:9001")
    List<String> proberAddresses;
    @ConfigProperty(name = "mates.trainer.probe-parallelism", defaultValue = "0")
    int probeParallelism;
    @ConfigProperty(name = "mates.trainer.influence-model", defaultValue = "127.0.0.1:9002")
    String influenceAddress;
    /** Unset: {@code java.io.tmpdir}/mates-trainer (a "${java.io.tmpdir}" default was taken literally, as a relative folder). */
    @ConfigProperty(name = "mates.trainer.work-dir")
    java.util.Optional<Path> workDirSetting;
    @ConfigProperty(name = "mates.trainer.shard-size", defaultValue = "256")
    int shardSize;
    @ConfigProperty(name = "mates.trainer.score-timeout", defaultValue = "30m")
    Duration scoreTimeout;
    @ConfigProperty(name = "mates.trainer.resume-on-start", defaultValue = "true")
    boolean resumeOnStart;

    private final Map<String, Handle> running = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger currentStage = new java.util.concurrent.atomic.AtomicInteger();
    private final List<ManagedChannel> probers = new ArrayList<>();
    private ManagedChannel influence;

    void start(@Observes StartupEvent e) {
        for (String a : proberAddresses) probers.add(channel(a));
        influence = channel(influenceAddress);
        registry.gauge("mates.trainer.runs.active", running, Map::size);
        registry.more().counter("mates.trainer.tokens.trained", List.of(), tokens);
        registry.gauge("mates.trainer.stage", currentStage);
        if (!resumeOnStart) return;
        try {
            for (String id : jedis.smembers(prefix + "runs:active")) {
                Map<String, String> st = state.get(RunArtifacts.stateKey(id));
                if (st.containsKey("spec")) {
                    Log.infof("resuming run %s (was %s in phase %s)", id, st.get("state"), st.get("phase"));
                    launch(id, RunSpec.fromJson(st.get("spec")), true);
                }
            }
        } catch (RuntimeException ex) {
            Log.warnf("could not resume runs at start-up (Redis unavailable?): %s", ex.getMessage());
        }
    }

    Path workDir() {
        return workDirSetting.orElseGet(() -> Path.of(System.getProperty("java.io.tmpdir"), "mates-trainer"));
    }

    /**
     * A plaintext channel with round_robin load balancing: for a {@code dns:///} target that resolves to several
     * pods (a headless Service) concurrent calls spread over all of them; for one address it is the same as
     * pick_first.
     */
    static ManagedChannel channel(String target) {
        return ManagedChannelBuilder.forTarget(target.strip()).defaultLoadBalancingPolicy("round_robin").usePlaintext().build();
    }

    void stop(@Observes ShutdownEvent e) {
        // Graceful stop: runs stop at their next step but stay active in Redis, so the next trainer resumes them.
        running.values().forEach(h -> {
            h.shutdown = true;
            h.cancel = true;
        });
        probers.forEach(ManagedChannel::shutdownNow);
        if (influence != null) influence.shutdownNow();
    }

    RunStatus startRun(StartRunRequest r) {
        String id = r.getRunId().isEmpty() ? "run-" + UUID.randomUUID().toString().substring(0, 8) : r.getRunId();
        if (!RUN_ID.matcher(id).matches()) {
            throw GrpcErrors.invalid("run_id", "'" + id + "' must match " + RUN_ID.pattern());
        }
        RunSpec spec = RunSpec.of(id, r);
        RunData.checkSelectors(spec.selector(), spec.baseline());
        config(spec); // INVALID_ARGUMENT for a bad key or value, before anything is stored
        if (!state.get(RunArtifacts.stateKey(id)).isEmpty()) {
            throw io.grpc.Status.ALREADY_EXISTS.withDescription("run_id: run '" + id + "' exists; use another id or ResumeRun")
                    .asRuntimeException();
        }
        state.put(RunArtifacts.stateKey(id), Map.of("state", RunState.RUN_STATE_PENDING.name(), "spec", spec.toJson(),
                "resumes", "0", "error", ""));
        return launch(id, spec, false);
    }

    RunStatus resume(String id) {
        Map<String, String> st = known(id);
        RunState s = RunState.valueOf(st.get("state"));
        if (running.containsKey(id)) {
            throw GrpcErrors.precondition("run " + id + " is running");
        }
        if (s == RunState.RUN_STATE_SUCCEEDED) throw GrpcErrors.precondition("run " + id + " already succeeded");
        return launch(id, RunSpec.fromJson(st.get("spec")), true);
    }

    RunStatus cancel(String id) {
        Map<String, String> st = known(id);
        Handle h = running.get(id);
        if (h == null) {
            throw GrpcErrors.precondition("run " + id + " is not running here (state " + st.get("state") + ")");
        }
        h.cancel = true;
        return status(id);
    }

    RunStatus status(String id) {
        Map<String, String> st = known(id);
        RunStatus.Builder b = RunStatus.newBuilder().setRunId(id)
                .setState(RunState.valueOf(st.getOrDefault("state", RunState.RUN_STATE_UNSPECIFIED.name())))
                .setPhase(st.getOrDefault("phase", "")).setArm(st.getOrDefault("arm", ""))
                .setStage(Integer.parseInt(st.getOrDefault("stage", "0"))).setStep(Long.parseLong(st.getOrDefault("step", "0")))
                .setCheckpointRef(st.getOrDefault("checkpoint", "")).setReportRef(st.getOrDefault("report_ref", ""))
                .setError(st.getOrDefault("error", "")).setResumes(Integer.parseInt(st.getOrDefault("resumes", "0")));
        return b.build();
    }

    String reportJson(String id) {
        RunStatus s = status(id);
        if (s.getState() != RunState.RUN_STATE_SUCCEEDED) {
            throw GrpcErrors.precondition("run " + id + " has no report yet (state " + s.getState() + ", phase " + s.getPhase() + ")");
        }
        return new String(RunArtifacts.require(objects, RunArtifacts.reportKey(id)), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Subscribes to a run's events; returns null when the run is not running in this process. */
    Runnable watch(String id, Consumer<RunEvent> sink, Runnable onEnd) {
        known(id);
        Handle h = running.get(id);
        if (h == null) return null;
        Handle.Watcher w = new Handle.Watcher(sink, onEnd);
        h.watchers.add(w);
        if (!running.containsKey(id)) w.onEnd.run(); // ended between the lookup and the subscription
        return () -> h.watchers.remove(w);
    }

    private Map<String, String> known(String id) {
        Map<String, String> st = state.get(RunArtifacts.stateKey(id));
        if (st.isEmpty() || !st.containsKey("spec")) throw GrpcErrors.notFound("run_id", "no run '" + id + "'");
        return st;
    }

    private RunConfig config(RunSpec spec) {
        return RunConfig.load(null, spec.quick(), new LinkedHashMap<>(spec.config()));
    }

    private synchronized RunStatus launch(String id, RunSpec spec, boolean resumed) {
        if (running.containsKey(id)) return status(id);
        RunConfig cfg = config(spec);
        Handle h = new Handle(id, (long) cfg.getInt("train.batch_size") * cfg.getInt("model.context"));
        running.put(id, h);
        Map<String, String> fields = new HashMap<>(Map.of("state", RunState.RUN_STATE_RUNNING.name(), "error", ""));
        if (resumed) {
            int resumes = Integer.parseInt(state.get(RunArtifacts.stateKey(id)).getOrDefault("resumes", "0")) + 1;
            fields.put("resumes", Integer.toString(resumes));
        }
        state.put(RunArtifacts.stateKey(id), fields);
        jedis.sadd(prefix + "runs:active", id);
        Thread t = new Thread(() -> execute(h, spec), "mates-run-" + id);
        t.setDaemon(true);
        t.start();
        return status(id);
    }

    private void execute(Handle h, RunSpec spec) {
        String id = h.id;
        RunState end;
        String error = "";
        try {
            RunConfig cfg = config(spec);
            Path dir = workDir().resolve(id);
            Files.createDirectories(dir);
            RunData data = RunData.resolve(download(spec.pool(), dir, "pool"), download(spec.reference(), dir, "reference"),
                    download(spec.heldout(), dir, "heldout"), cfg, dir);
            Path rejectsFile = dir.resolve("rejects.jsonl");
            ObjectNode report;
            try (Rejects rejects = new Rejects(rejectsFile)) {
                RunInputs inputs = RunInputs.load(data.pool(), data.reference(), data.heldout(), cfg, rejects);
                RemoteRoles roles = new RemoteRoles(cfg, inputs.tokenizer(), objects, probers, probeParallelism, influence, queue, prefix,
                        shardSize, scoreTimeout.toMillis(), h);
                long t0 = System.nanoTime();
                report = new Pipeline(id, cfg, inputs, roles, objects, state).listener(h).run(spec.selector(), spec.baseline());
                ObjectNode r = report.putObject("rejects");
                r.put("count", rejects.count());
                r.set("by_kind", new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(rejects.countsByKind()));
                r.put("file", objects.ref(RunArtifacts.runPrefix(id) + "rejects.jsonl"));
                report.put("wall_seconds", (System.nanoTime() - t0) / 1e9);
                report.put("demo", data.demo());
                report.put("distributed", true);
            }
            objects.put(RunArtifacts.runPrefix(id) + "rejects.jsonl", Files.readAllBytes(rejectsFile));
            objects.put(RunArtifacts.reportKey(id), RunArtifacts.json(report));
            state.put(RunArtifacts.stateKey(id), Map.of("report_ref", objects.ref(RunArtifacts.reportKey(id))));
            end = RunState.RUN_STATE_SUCCEEDED;
        } catch (Pipeline.CancelledException e) {
            end = RunState.RUN_STATE_CANCELLED;
        } catch (Throwable e) {
            Log.errorf(e, "run %s failed", id);
            end = RunState.RUN_STATE_FAILED;
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        try {
            if (!h.shutdown) {
                state.put(RunArtifacts.stateKey(id), Map.of("state", end.name(), "error", error));
                jedis.srem(prefix + "runs:active", id);
            }
        } catch (RuntimeException e) {
            Log.warnf("could not record the end of run %s: %s", id, e.getMessage());
        }
        running.remove(id);
        RunStatus last;
        try {
            last = status(id);
        } catch (RuntimeException e) {
            last = RunStatus.newBuilder().setRunId(id).setState(end).setError(error).build();
        }
        RunEvent ev = RunEvent.newBuilder().setStatus(last).build();
        for (Handle.Watcher w : h.watchers) {
            w.sink.accept(ev);
            w.onEnd.run();
        }
    }

    /** s3://bucket/prefix specs are downloaded (every object under the prefix) into the run's work dir. */
    private List<String> download(List<String> specs, Path dir, String role) throws IOException {
        List<String> out = new ArrayList<>();
        for (String spec : specs) {
            if (!spec.startsWith("s3://")) {
                out.add(spec);
                continue;
            }
            String key = dev.mates.services.common.Refs.key(role, spec, s3.bucket());
            List<String> keys = objects.list(key);
            if (keys.isEmpty()) throw new IllegalArgumentException(role + ": no object under " + spec);
            Path target = dir.resolve("inputs").resolve(role);
            for (String k : keys) {
                Path p = target.resolve(k);
                Files.createDirectories(p.getParent());
                Files.write(p, RunArtifacts.require(objects, k));
            }
            out.add(target.resolve(key).toString());
        }
        return out;
    }

    /** A running run: its cancel flag and watchers; also the pipeline's listener. */
    final class Handle implements Pipeline.Listener {
        record Watcher(Consumer<RunEvent> sink, Runnable onEnd) {}

        final String id;
        final long tokensPerStep;
        final List<Watcher> watchers = new CopyOnWriteArrayList<>();
        volatile boolean cancel;
        volatile boolean shutdown;
        private long lastProgressNanos;
        private long lastSteps;

        Handle(String id, long tokensPerStep) {
            this.id = id;
            this.tokensPerStep = tokensPerStep;
        }

        private void publish(RunEvent e) {
            for (Watcher w : watchers) {
                try {
                    w.sink.accept(e);
                } catch (RuntimeException ex) {
                    watchers.remove(w); // a watcher that went away
                }
            }
        }

        @Override
        public void phase(String phase, String arm, int stage, long step) {
            currentStage.set(stage);
            publish(RunEvent.newBuilder().setStatus(status(id)).build());
        }

        @Override
        public void progress(String label, long done, long total, String unit, String detail) {
            if (unit.equals("steps")) {
                if (done < lastSteps) lastSteps = 0;
                tokens.addAndGet((done - lastSteps) * tokensPerStep);
                lastSteps = done;
            }
            long now = System.nanoTime();
            if (done < total && now - lastProgressNanos < 250_000_000L) return; // at most 4 events/s per run
            lastProgressNanos = now;
            publish(RunEvent.newBuilder().setProgress(Progress.newBuilder().setLabel(label).setDone(done).setTotal(total)
                    .setUnit(unit).setDetail(detail)).build());
        }

        @Override
        public void log(String line) {
            Log.infof("run %s: %s", id, line);
            publish(RunEvent.newBuilder().setLog(line).build());
        }

        @Override
        public boolean cancelled() {
            return cancel;
        }
    }
}
