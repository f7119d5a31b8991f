package dev.mates.services.trainer;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.engine.pipeline.MatesRun;
import dev.mates.engine.pipeline.Pipeline;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.select.Selectors;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.Retry;
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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Owns the runs of this trainer: starts each in its own thread running the engine's {@link MatesRun} with
 * {@link RemoteRoles}, records its state in the {@link RunRegistry}, publishes its progress through its
 * {@link RunEvents}, and on start-up resumes every run that was active when the previous trainer process died.
 * Errors are plain exceptions ({@link RunErrors}); {@link TrainerGrpcService} maps them to status codes.
 *
 * <p>One run trains at a time (the training engine trains one model per process); runs started or resumed while
 * one runs wait in state QUEUED, first come first served, up to {@code mates.trainer.max-queued-runs}. A run is
 * executed only by the trainer holding its owner lease (renewed while it runs), so two trainers never run the same
 * run; a trainer that loses the lease stops the run without recording an end. A run found active at start-up after
 * a crash is resumed, unless it crashed {@code mates.trainer.max-crashes} times in a row at the same place: then it
 * ends FAILED. A store or peer outage is retried within {@code mates.retry.outage-budget}; past it the run ends
 * FAILED with the reason, and the end is recorded even if the state store comes back only later.
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
    /** Runs waiting (QUEUED) behind the one that trains; StartRun/ResumeRun beyond it get RESOURCE_EXHAUSTED. */
    @ConfigProperty(name = "mates.trainer.max-queued-runs", defaultValue = "16")
    int maxQueuedRuns;
    /** The owner lease of a running run: renewed every third of it; another trainer may take the run once it lapses. */
    @ConfigProperty(name = "mates.trainer.owner-lease", defaultValue = "30s")
    Duration ownerLease;
    /** A run that crashed its trainer this many times in a row at the same place ends FAILED instead of looping. */
    @ConfigProperty(name = "mates.trainer.max-crashes", defaultValue = "3")
    int maxCrashes;
    /** How often scoring looks for shards that Redis lost (neither done nor queued) and enqueues them again. */
    @ConfigProperty(name = "mates.trainer.lost-shard-check", defaultValue = "30s")
    Duration lostShardCheck;
    /** How long the trainer waits for each kind of call before it counts the peer as hung and retries. */
    @ConfigProperty(name = "mates.trainer.deadline.probe", defaultValue = "10m")
    Duration probeDeadline;
    @ConfigProperty(name = "mates.trainer.deadline.fit", defaultValue = "30m")
    Duration fitDeadline;
    @ConfigProperty(name = "mates.trainer.deadline.predict", defaultValue = "2m")
    Duration predictDeadline;
    @Inject
    Retry retry;

    /** One run trains at a time: the training engine trains one model per process. */
    static final int TRAINING_SLOTS = 1;
    /** Identifies this trainer process in owner leases. */
    private final String owner = System.getenv().getOrDefault("HOSTNAME", "trainer") + "-" + ProcessHandle.current().pid()
            + "-" + UUID.randomUUID().toString().substring(0, 8);
    private final Map<String, RunEvents> running = new ConcurrentHashMap<>();
    /** Runs waiting for the training slot, in arrival order. */
    private final Map<String, Waiting> queued = new LinkedHashMap<>();
    private ScheduledExecutorService leases;

    private record Waiting(RunSpec spec, boolean resumed, RunEvents events) {}
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
        leases = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mates-run-leases");
            t.setDaemon(true);
            return t;
        });
        meters.gauge("mates.trainer.runs.active", running, Map::size);
        meters.gauge("mates.trainer.runs.queued", queued, q -> {
            synchronized (this) {
                return q.size();
            }
        });
        meters.more().counter("mates.trainer.tokens.trained", List.of(), tokens);
        meters.gauge("mates.trainer.stage", currentStage);
        long every = Math.max(100, ownerLease.toMillis() / 3);
        leases.scheduleAtFixedRate(this::renewLeases, every, every, TimeUnit.MILLISECONDS);
        if (!resumeOnStart) return;
        // Adopts the runs nobody runs: at start-up, and then whenever a lease lapses (a trainer died, or this one
        // restarted while its old lease was still running out).
        leases.scheduleWithFixedDelay(this::adoptOrphans, 0, Math.max(200, ownerLease.toMillis()), TimeUnit.MILLISECONDS);
    }

    /** Every active run that no live trainer holds the lease of is resumed (or queued) here. */
    void adoptOrphans() {
        java.util.Collection<String> active;
        try {
            active = registry.active();
        } catch (RuntimeException ex) {
            Log.debugf("cannot look for runs to resume (Redis unavailable?): %s", ex.getMessage());
            return;
        }
        for (String id : active) {
            synchronized (this) {
                if (running.containsKey(id) || queued.containsKey(id)) continue;
            }
            // One run that cannot be resumed (e.g. its stored config is now out of bounds) does not stop the others.
            try {
                if (!registry.lease(id, owner, ownerLease.toMillis())) continue; // a live trainer runs it
                Map<String, String> st = state.get(StorageLayout.stateKey(id));
                if (!st.containsKey("spec")) {
                    registry.release(id, owner);
                    continue;
                }
                int crashes = registry.countCrash(id);
                if (crashes > maxCrashes) {
                    String why = "the trainer crashed " + crashes + " times in a row while running it at " + st.get("crash_at")
                            + " (mates.trainer.max-crashes=" + maxCrashes + "); see the trainer's log, fix the cause, then ResumeRun";
                    Log.errorf("run %s: %s", id, why);
                    registry.markEnded(id, RunState.RUN_STATE_FAILED, why);
                    registry.release(id, owner);
                    continue;
                }
                Log.infof("resuming run %s (was %s in phase %s%s)", id, st.get("state"), st.get("phase"),
                        crashes > 0 ? ", after crash " + crashes + " of at most " + maxCrashes + " in a row" : "");
                synchronized (this) {
                    admit(id, RunSpec.fromJson(st.get("spec")), true);
                }
            } catch (RuntimeException ex) {
                Log.errorf("run %s cannot be resumed: %s", id, ex.getMessage());
                try {
                    registry.markEnded(id, RunState.RUN_STATE_FAILED, "cannot be resumed: " + ex.getMessage());
                    registry.release(id, owner);
                } catch (RuntimeException again) {
                    Log.warnf("could not mark run %s failed: %s", id, again.getMessage());
                }
            }
        }
    }

    /**
     * Renews the owner lease of every run this trainer holds, running or queued. A run whose lease another trainer
     * took (this one was presumed dead) is dropped here: stopped if running, without recording an end.
     */
    private void renewLeases() {
        List<String> mine;
        synchronized (this) {
            mine = new ArrayList<>(running.keySet());
            mine.addAll(queued.keySet());
        }
        for (String id : mine) {
            try {
                if (registry.lease(id, owner, ownerLease.toMillis())) continue;
            } catch (RuntimeException e) {
                continue; // Redis away: renewed (or re-taken, if still free) once it is back
            }
            Log.errorf("run %s: another trainer took over its owner lease; dropping it here", id);
            Waiting w;
            synchronized (this) {
                w = queued.remove(id);
            }
            RunEvents h = running.get(id);
            if (h != null) {
                h.fenced = true;
                h.cancel = true;
            }
            if (w != null) w.events().end(status(id));
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
        // Graceful stop: runs stop at their next step but stay active, so the next trainer resumes them (queued
        // runs too: they are in the active set).
        running.values().forEach(h -> {
            h.shutdown = true;
            h.cancel = true;
            try {
                registry.markInterrupted(h.id);
            } catch (RuntimeException ex) {
                Log.warnf("could not mark run %s as interrupted (the next trainer counts it as a crash): %s", h.id, ex.getMessage());
            }
        });
        synchronized (this) {
            queued.clear();
        }
        if (leases != null) leases.shutdownNow();
        channels.forEach(Channels.Reloading::close);
    }

    /** Synchronized with {@link #resume} and the end of a run: the queue and the launch are one step. */
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
        if (!registry.lease(id, owner, ownerLease.toMillis())) throw new RunErrors.RunExists(id); // another trainer took it first
        return admit(id, spec, false);
    }

    synchronized RunStatus resume(String id) {
        RunState s = registry.stateOf(id);
        if (running.containsKey(id) || queued.containsKey(id)) {
            throw new RunErrors.WrongState("run " + id + " is " + (running.containsKey(id) ? "running" : "queued") + " here");
        }
        if (s == RunState.RUN_STATE_SUCCEEDED) throw new RunErrors.WrongState("run " + id + " already succeeded");
        RunSpec spec = registry.spec(id);
        checkInputs(spec);
        checkCapacity(id);
        if (!registry.lease(id, owner, ownerLease.toMillis())) {
            throw new RunErrors.WrongState("run " + id + " is running on another trainer (it holds the run's owner lease);"
                    + " cancel it there, or wait " + ownerLease.toSeconds() + " s after that trainer died");
        }
        registry.clearCrashes(id);
        return admit(id, spec, true);
    }

    private void checkInputs(RunSpec spec) {
        spec.pool().forEach(p -> inputs.check("pool", p));
        spec.reference().forEach(p -> inputs.check("reference", p));
        spec.heldout().forEach(p -> inputs.check("heldout", p));
    }

    private void checkCapacity(String id) {
        if (running.size() >= TRAINING_SLOTS && queued.size() >= maxQueuedRuns && !queued.containsKey(id)) {
            throw new RunErrors.Busy("this trainer runs a run and " + queued.size() + " more wait, its limit "
                    + "(mates.trainer.max-queued-runs=" + maxQueuedRuns + "); wait for one to end or cancel one");
        }
    }

    /**
     * Starts the run now if the training slot is free, else queues it (state QUEUED). The caller holds the run's
     * owner lease (renewed from then on while the run is running or queued here) and this object's lock.
     */
    private RunStatus admit(String id, RunSpec spec, boolean resumed) {
        if (running.containsKey(id) || queued.containsKey(id)) return status(id);
        RunEvents h = events(id, spec);
        if (running.size() < TRAINING_SLOTS && queued.isEmpty()) return launch(id, spec, resumed, h);
        queued.put(id, new Waiting(spec, resumed, h));
        registry.markQueued(id);
        Log.infof("run %s queued behind %d run(s)", id, running.size() + queued.size() - 1);
        return status(id);
    }

    /** A run ended: the next queued run starts. */
    private synchronized void startNext() {
        while (running.size() < TRAINING_SLOTS && !queued.isEmpty()) {
            var it = queued.entrySet().iterator();
            var next = it.next();
            it.remove();
            try {
                launch(next.getKey(), next.getValue().spec(), next.getValue().resumed(), next.getValue().events());
            } catch (RuntimeException e) {
                Log.errorf("queued run %s could not start: %s", next.getKey(), e.getMessage());
                endRecorded(next.getKey(), RunState.RUN_STATE_FAILED, "could not start: " + e.getMessage());
                next.getValue().events().end(RunStatus.newBuilder().setRunId(next.getKey()).setState(RunState.RUN_STATE_FAILED)
                        .setError(e.getMessage()).build());
            }
        }
    }

    RunStatus cancel(String id) {
        RunState s = registry.stateOf(id);
        Waiting w;
        synchronized (this) {
            w = queued.remove(id);
        }
        if (w != null) {
            endRecorded(id, RunState.RUN_STATE_CANCELLED, "");
            registry.release(id, owner);
            RunStatus st = status(id);
            w.events().end(st);
            return st;
        }
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
        RunEvents h;
        synchronized (this) {
            h = running.get(id);
            if (h == null && queued.containsKey(id)) h = queued.get(id).events();
        }
        if (h == null) return null;
        Runnable unsubscribe = h.subscribe(new RunEvents.Watcher(sink, onEnd));
        synchronized (this) {
            if (!running.containsKey(id) && !queued.containsKey(id)) onEnd.run(); // ended between the lookup and the subscription
        }
        return unsubscribe;
    }

    private RunConfig config(RunSpec spec) {
        return RunConfig.load(null, spec.quick(), new LinkedHashMap<>(spec.config()));
    }

    private RunEvents events(String id, RunSpec spec) {
        RunConfig cfg = config(spec);
        return new RunEvents(id, (long) cfg.getInt("train.batch_size") * cfg.getInt("model.context"),
                () -> status(id), tokens, currentStage);
    }

    /** Starts the run's thread (its owner lease is held). */
    private RunStatus launch(String id, RunSpec spec, boolean resumed, RunEvents h) {
        running.put(id, h);
        registry.markRunning(id, resumed);
        Thread t = new Thread(() -> {
            try {
                execute(h, spec);
            } finally {
                startNext();
            }
        }, "mates-run-" + id);
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
            RemoteRoles.Deadlines deadlines = new RemoteRoles.Deadlines(probeDeadline, fitDeadline, predictDeadline);
            MatesRun.execute(req, objects, state, in -> new RemoteRoles(cfg, in.tokenizer(), objects, probers,
                    probeParallelism, influence, queue, prefix, shardSize, scoreTimeout.toMillis(), lostShardCheck.toMillis(),
                    h, retry, deadlines), h);
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
        if (!h.shutdown && !h.fenced) endRecorded(id, end, error);
        if (!h.fenced) {
            try {
                registry.release(id, owner);
            } catch (RuntimeException e) {
                Log.warnf("could not release the owner lease of run %s (it lapses in %s): %s", id, ownerLease, e.getMessage());
            }
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

    /**
     * Records the end of a run. The state store calls retry within the outage budget; if the store is still away,
     * the end is recorded in the background as soon as it is back, so a run never stays RUNNING with nothing
     * running it while this trainer lives.
     */
    private void endRecorded(String id, RunState end, String error) {
        try {
            registry.markEnded(id, end, error);
        } catch (RuntimeException e) {
            Log.warnf("could not record the end of run %s yet (%s); trying again in the background", id, e.getMessage());
            ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
            task[0] = leases.scheduleWithFixedDelay(() -> {
                try {
                    registry.markEnded(id, end, error);
                    Log.infof("recorded the end of run %s (%s)", id, end);
                    task[0].cancel(false);
                } catch (RuntimeException again) {
                    // still away
                }
            }, 10, 10, TimeUnit.SECONDS);
        }
    }
}
