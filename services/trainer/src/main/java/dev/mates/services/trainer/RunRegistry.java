package dev.mates.services.trainer;

import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.store.StateStore;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The runs this deployment knows, in the state store ({@link StorageLayout}): each run's hash (state, phase, arm,
 * stage, step, checkpoint, spec, resumes, error, report_ref; the pipeline writes its progress fields there too)
 * and the set of active runs, which a starting trainer resumes.
 */
@ApplicationScoped
public class RunRegistry {
    @Inject
    StateStore state;

    /**
     * Records a new run as PENDING with its spec, atomically: of two StartRuns with one id exactly one creates it,
     * the other gets {@link RunErrors.RunExists}. A creation retried after a lost answer recognises its own nonce.
     */
    void create(String id, RunSpec spec) {
        String nonce = UUID.randomUUID().toString();
        boolean created = state.createIfAbsent(StorageLayout.stateKey(id), Map.of("state", RunState.RUN_STATE_PENDING.name(),
                "spec", spec.toJson(), "resumes", "0", "error", "", "created_by", nonce));
        if (!created && !nonce.equals(state.get(StorageLayout.stateKey(id)).get("created_by"))) throw new RunErrors.RunExists(id);
    }

    /** The key of the run's owner lease: the trainer that executes the run holds it. */
    static String ownerKey(String id) {
        return StorageLayout.stateKey(id) + ":owner";
    }

    /** Takes or renews the run's owner lease for {@code owner}; false when another trainer holds it. */
    boolean lease(String id, String owner, long ttlMillis) {
        return state.lease(ownerKey(id), owner, ttlMillis);
    }

    void release(String id, String owner) {
        state.release(ownerKey(id), owner);
    }

    /** Waiting for the trainer to finish the runs before it; active, so a restarted trainer queues it again. */
    void markQueued(String id) {
        state.put(StorageLayout.stateKey(id), Map.of("state", RunState.RUN_STATE_QUEUED.name(), "error", ""));
        state.add(StorageLayout.activeRunsKey(), id);
    }

    /** The trainer stopped gracefully while the run was running: it resumes without counting a crash. */
    void markInterrupted(String id) {
        state.put(StorageLayout.stateKey(id), Map.of("stopped_by", "shutdown"));
    }

    /**
     * A trainer found the run active at start-up. Unless its last trainer stopped gracefully, that is a crash; crashes
     * at the same position (arm, stage, phase) in a row are counted. Returns the count (0: not a crash).
     */
    int countCrash(String id) {
        Map<String, String> st = get(id);
        if (!RunState.RUN_STATE_RUNNING.name().equals(st.get("state")) || "shutdown".equals(st.get("stopped_by"))) return 0;
        String at = st.getOrDefault("arm", "") + "/" + st.getOrDefault("stage", "0") + "/" + st.getOrDefault("phase", "");
        int crashes = at.equals(st.get("crash_at")) ? Integer.parseInt(st.getOrDefault("crashes", "0")) + 1 : 1;
        state.put(StorageLayout.stateKey(id), Map.of("crashes", Integer.toString(crashes), "crash_at", at));
        return crashes;
    }

    /** A person resumed the run: earlier crashes no longer count against it. */
    void clearCrashes(String id) {
        state.put(StorageLayout.stateKey(id), Map.of("crashes", "0", "crash_at", ""));
    }

    /** The run's hash; {@link RunErrors.NoSuchRun} when there is none. */
    Map<String, String> get(String id) {
        Map<String, String> st = state.get(StorageLayout.stateKey(id));
        if (st.isEmpty() || !st.containsKey("spec")) throw new RunErrors.NoSuchRun(id);
        return st;
    }

    RunSpec spec(String id) {
        return RunSpec.fromJson(get(id).get("spec"));
    }

    RunState stateOf(String id) {
        return RunState.valueOf(get(id).get("state"));
    }

    /** Marks the run RUNNING (counting a resume) and active, so a restarted trainer picks it up. */
    void markRunning(String id, boolean resumed) {
        Map<String, String> fields = new HashMap<>(Map.of("state", RunState.RUN_STATE_RUNNING.name(), "error", "",
                "stopped_by", ""));
        if (resumed) {
            int resumes = Integer.parseInt(get(id).getOrDefault("resumes", "0")) + 1;
            fields.put("resumes", Integer.toString(resumes));
        }
        state.put(StorageLayout.stateKey(id), fields);
        state.add(StorageLayout.activeRunsKey(), id);
    }

    /** Records where the run's report is. */
    void reportWritten(String id, String reportRef) {
        state.put(StorageLayout.stateKey(id), Map.of("report_ref", reportRef));
    }

    /** The run ended (succeeded, failed or cancelled): it is no longer active. */
    void markEnded(String id, RunState end, String error) {
        state.put(StorageLayout.stateKey(id), Map.of("state", end.name(), "error", error));
        state.remove(StorageLayout.activeRunsKey(), id);
    }

    /** Runs that were running when their trainer stopped. */
    Set<String> active() {
        return state.members(StorageLayout.activeRunsKey());
    }

    RunStatus status(String id) {
        Map<String, String> st = get(id);
        return RunStatus.newBuilder().setRunId(id)
                .setState(RunState.valueOf(st.getOrDefault("state", RunState.RUN_STATE_UNSPECIFIED.name())))
                .setPhase(st.getOrDefault("phase", "")).setArm(st.getOrDefault("arm", ""))
                .setStage(Integer.parseInt(st.getOrDefault("stage", "0"))).setStep(Long.parseLong(st.getOrDefault("step", "0")))
                .setCheckpointRef(st.getOrDefault("checkpoint", "")).setReportRef(st.getOrDefault("report_ref", ""))
                .setError(st.getOrDefault("error", "")).setResumes(Integer.parseInt(st.getOrDefault("resumes", "0")))
                .build();
    }
}
