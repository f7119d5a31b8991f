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

/**
 * The runs this deployment knows, in the state store ({@link StorageLayout}): each run's hash (state, phase, arm,
 * stage, step, checkpoint, spec, resumes, error, report_ref; the pipeline writes its progress fields there too)
 * and the set of active runs, which a starting trainer resumes.
 */
@ApplicationScoped
public class RunRegistry {
    @Inject
    StateStore state;

    /** Records a new run as PENDING with its spec; {@link RunErrors.RunExists} when the id is taken. */
    void create(String id, RunSpec spec) {
        if (!state.get(StorageLayout.stateKey(id)).isEmpty()) throw new RunErrors.RunExists(id);
        state.put(StorageLayout.stateKey(id), Map.of("state", RunState.RUN_STATE_PENDING.name(), "spec", spec.toJson(),
                "resumes", "0", "error", ""));
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
        Map<String, String> fields = new HashMap<>(Map.of("state", RunState.RUN_STATE_RUNNING.name(), "error", ""));
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
