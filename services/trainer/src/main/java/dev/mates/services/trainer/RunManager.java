package dev.mates.services.trainer;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.engine.pipeline.MatesRun;
import dev.mates.engine.pipeline.Pipeline;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.select.Selectors;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StateStore;
import dev.mates.proto.v1.RunEvent;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import dev.mates.proto.auth.BearerToken;
import dev.mates.proto.auth.Channels;
import dev.mates.services.common.Refs;
import dev.mates.services.common.auth.Auth;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.logging.Log;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Owns the runs of this trainer: starts each in its own thread running the engine's {@link MatesRun} with
 * {@link RemoteRoles}, records its state in the {@link RunRegistry}, publishes its progress through its
 * {@link RunEvents}, and on start-up resumes every run that was active when the previous trainer process died.
 * Errors are plain exceptions ({@link RunErrors}); {@link TrainerGrpcService} maps them to status codes.
 */
@ApplicationScoped
public class RunManager {

    @Inject
    ObjectStore objects;
    @Inject
    StateStore state;
    @Inject
    RunRegistry registry;
    @Inject
    InputFetcher inputs;
    @Inject
    RedisShardQueue queue;
    @Inject
    MeterRegistry meters;
    @Inject
    Auth auth;
    /** TLS to the probers and the influence model: the CA to trust (unset: plaintext), and for mTLS a client certificate. */
    @ConfigProperty(name = "mates.trainer.tls.ca-file")
    Optional<Path> tlsCa;
    @ConfigProperty(name = "mates.trainer.tls.cert-file")
    Optional<Path> tlsCert;
    @ConfigProperty(name = "mates.trainer.tls.key-file")
    Optional<Path> tlsKey;
    /** How often the trainer looks at those files; a renewed certificate is used from then on, without a restart. */
    @ConfigProperty(name = "mates.trainer.tls.reload-period", defaultValue = "1m")
    Duration tlsReload;
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
    Optional<Path> workDirSetting;
    @ConfigProperty(name = "mates.trainer.shard-size", defaultValue = "256")
    int shardSize;
    @ConfigProperty(name = "mates.trainer.score-timeout", defaultValue = "30m")
    Duration scoreTimeout;
    @ConfigProperty(name = "mates.trainer.resume-on-start", defaultValue = "true")
    boolean resumeOnStart;
    /** Runs share the process's training engine, which trains one model at a time (docs/security.md, limits). */
    @ConfigProperty(name = "mates.trainer.max-concurrent-runs", defaultValue = "1")
    int maxConcurrentRuns;

    private final Map<String, RunEvents> running = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private final AtomicInteger currentStage = new AtomicInteger();
    private final List<Channels.Reloading> channels = new ArrayList<>();
    /** The channels with the service token on every call. */
    private final List<Channel> probers = new ArrayList<>();
    private Channel influence;

    void start(@Observes StartupEvent e) {
        BearerToken token = BearerToken.of(auth.internalToken());
        for (String a : proberAddresses) probers.add(ClientInterceptors.intercept(channel(a), token));
        influence = ClientInterceptors.intercept(channel(influenceAddress), token);
        meters.gauge("mates.trainer.runs.active", running, Map::size);
        meters.more().counter("mates.trainer.tokens.trained", List.of(), tokens);
        meters.gauge("mates.trainer.stage", currentStage);
        if (!resumeOnStart) return;
        java.util.Collection<String> active;
        try {
            active = registry.active();
        } catch (RuntimeException ex) {
            Log.warnf("could not resume runs at start-up (Redis unavailable?): %s", ex.getMessage());
            return;
        }
        for (String id : active) {
            // One run that cannot be resumed (e.g. its stored config is now out of bounds) does not stop the others.
            try {
                Map<String, String> st = state.get(StorageLayout.stateKey(id));
                if (st.containsKey("spec")) {
                    Log.infof("resuming run %s (was %s in phase %s)", id, st.get("state"), st.get("phase"));
                    launch(id, RunSpec.fromJson(st.get("spec")), true);
                }
            } catch (RuntimeException ex) {
                Log.errorf("run %s cannot be resumed: %s", id, ex.getMessage());
                try {
                    registry.markEnded(id, RunState.RUN_STATE_FAILED, "cannot be resumed: " + ex.getMessage());
                } catch (RuntimeException again) {
                    Log.warnf("could not mark run %s failed: %s", id, again.getMessage());
                }
            }
        }
    }

    Path workDir() {
        return workDirSetting.orElseGet(() -> Path.of(System.getProperty("java.io.tmpdir"), "mates-trainer"));
    }

    /**
     * A channel (plaintext, or TLS with the mates.trainer.tls.* files) with round_robin load balancing: for a {@code dns:///} target that resolves to several
     * pods (a headless Service) concurrent calls spread over all of them; for one address it is the same as
     * pick_first.
     */
    Channel channel(String target) {
        Channels.Tls tls = new Channels.Tls(tlsCa.orElse(null), tlsCert.orElse(null), tlsKey.orElse(null));
        // Follows its TLS files: a renewed certificate is used without a restart.
        Channels.Reloading ch = new Channels.Reloading(tls, tlsReload,
                t -> Channels.builder(target, t).defaultLoadBalancingPolicy("round_robin").build());
        channels.add(ch);
        return ch;
    }

    void stop(@Observes ShutdownEvent e) {
        // Graceful stop: runs stop at their next step but stay active, so the next trainer resumes them.
        running.values().forEach(h -> {
            h.shutdown = true;
            h.cancel = true;
        });
        channels.forEach(Channels.Reloading::close);
    }

    /** Synchronized with {@link #resume} and {@link #launch}: the capacity check and the launch are one step. */
    synchronized RunStatus startRun(StartRunRequest r) {
        String id = r.getRunId().isEmpty() ? "run-" + UUID.randomUUID().toString().substring(0, 8) : r.getRunId();
        if (!Refs.RUN_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("run_id: '" + id + "' must match " + Refs.RUN_ID.pattern());
        }
        RunSpec spec = RunSpec.of(id, r);
        Selectors.check(spec.selector(), spec.baseline());
        config(spec); // a bad key or value is refused before anything is stored
        checkInputs(spec); // as are data this trainer may not read: nothing is opened before this
        checkCapacity(id);
        registry.create(id, spec);
        return launch(id, spec, false);
    }

    synchronized RunStatus resume(String id) {
        RunState s = registry.stateOf(id);
        if (running.containsKey(id)) throw new RunErrors.WrongState("run " + id + " is running");
        if (s == RunState.RUN_STATE_SUCCEEDED) throw new RunErrors.WrongState("run " + id + " already succeeded");
        RunSpec spec = registry.spec(id);
        checkInputs(spec);
        checkCapacity(id);
        return launch(id, spec, true);
    }

    private void checkInputs(RunSpec spec) {
        spec.pool().forEach(p -> inputs.check("pool", p));
        spec.reference().forEach(p -> inputs.check("reference", p));
        spec.heldout().forEach(p -> inputs.check("heldout", p));
    }

    private void checkCapacity(String id) {
        if (running.size() >= maxConcurrentRuns && !running.containsKey(id)) {
            throw new RunErrors.Busy("this trainer is running " + running.size() + " run(s), its limit "
                    + "(mates.trainer.max-concurrent-runs=" + maxConcurrentRuns + "); wait for one to end or cancel one");
        }
    }

    RunStatus cancel(String id) {
        RunState s = registry.stateOf(id);
        RunEvents h = running.get(id);
        if (h == null) throw new RunErrors.WrongState("run " + id + " is not running here (state " + s.name() + ")");
        h.cancel = true;
        return status(id);
    }

    RunStatus status(String id) {
        return registry.status(id);
    }

    String reportJson(String id) {
        RunStatus s = status(id);
        if (s.getState() != RunState.RUN_STATE_SUCCEEDED) {
            throw new RunErrors.WrongState("run " + id + " has no report yet (state " + s.getState() + ", phase "
                    + s.getPhase() + ")");
        }
        return new String(RunArtifacts.require(objects, StorageLayout.reportKey(id)), StandardCharsets.UTF_8);
    }

    /** Subscribes to a run's events; returns null when the run is not running in this process. */
    Runnable watch(String id, Consumer<RunEvent> sink, Runnable onEnd) {
        registry.get(id);
        RunEvents h = running.get(id);
        if (h == null) return null;
        Runnable unsubscribe = h.subscribe(new RunEvents.Watcher(sink, onEnd));
        if (!running.containsKey(id)) onEnd.run(); // ended between the lookup and the subscription
        return unsubscribe;
    }

    private RunConfig config(RunSpec spec) {
        return RunConfig.load(null, spec.quick(), new LinkedHashMap<>(spec.config()));
    }

    private synchronized RunStatus launch(String id, RunSpec spec, boolean resumed) {
        if (running.containsKey(id)) return status(id);
        RunConfig cfg = config(spec);
        RunEvents h = new RunEvents(id, (long) cfg.getInt("train.batch_size") * cfg.getInt("model.context"),
                () -> status(id), tokens, currentStage);
        running.put(id, h);
        registry.markRunning(id, resumed);
        Thread t = new Thread(() -> execute(h, spec), "mates-run-" + id);
        t.setDaemon(true);
        t.start();
        return status(id);
    }

    private void execute(RunEvents h, RunSpec spec) {
        String id = h.id;
        RunState end;
        String error = "";
        try {
            RunConfig cfg = config(spec);
            Path dir = workDir().resolve(id);
            AtomicLong downloaded = new AtomicLong(); // mates.trainer.max-input-bytes is per run
            MatesRun.Request req = new MatesRun.Request(id, cfg, inputs.fetch(spec.pool(), dir, "pool", downloaded),
                    inputs.fetch(spec.reference(), dir, "reference", downloaded), inputs.fetch(spec.heldout(), dir, "heldout", downloaded),
                    spec.selector(), spec.baseline(), dir, true);
            MatesRun.execute(req, objects, state, in -> new RemoteRoles(cfg, in.tokenizer(), objects, probers,
                    probeParallelism, influence, queue, prefix, shardSize, scoreTimeout.toMillis(), h), h);
            registry.reportWritten(id, objects.ref(StorageLayout.reportKey(id)));
            end = RunState.RUN_STATE_SUCCEEDED;
        } catch (Pipeline.CancelledException e) {
            end = RunState.RUN_STATE_CANCELLED;
        } catch (Throwable e) {
            Log.errorf(e, "run %s failed", id);
            end = RunState.RUN_STATE_FAILED;
            error = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        inputs.cleanUp(workDir().resolve(id)); // downloaded inputs are fetched again by a resume
        try {
            if (!h.shutdown) registry.markEnded(id, end, error);
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
        h.end(last);
    }
}
