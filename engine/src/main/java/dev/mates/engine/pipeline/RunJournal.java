package dev.mates.engine.pipeline;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StateStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a run restarts after a crash or a cancel. At the start of every stage the loop records a {@link Point}:
 * the warm-up checkpoint, the arms already finished, and for the arm in progress the checkpoint the stage starts
 * from (with its data cursor), its curve, stages and overhead so far.
 *
 * <p>Atomicity: each point is written as its own object ({@link StorageLayout#journalKey}), and only then is the
 * run's one resume pointer (field {@code resume} of the run hash) moved to it. The pointer is written last, so a
 * crash between the two writes leaves the pointer on the previous, complete point: a stage is never duplicated or
 * lost in the report.
 */
public final class RunJournal {
    static final ObjectMapper JSON = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    static final String POINTER = "resume";

    /** A stored resume point does not fit this run (another config, or a corrupt journal). */
    public static final class ResumeException extends RuntimeException {
        public ResumeException(String message) {
            super(message);
        }
    }

    /** The arm in progress at a stage boundary: {@code stage} is the next stage to run, from {@code checkpoint}. */
    public record ArmProgress(int armIndex, int stage, String checkpoint, List<EvalPoint> curve, List<StageResult> stages,
                              double overheadSeconds, double overheadFlops) {
        /** An arm about to start its first stage from the warm-up, whose curve it continues. */
        static ArmProgress start(int armIndex, List<EvalPoint> warmCurve) {
            return new ArmProgress(armIndex, 1, null, new ArrayList<>(warmCurve), new ArrayList<>(), 0, 0);
        }

        /** The same arm at the start of stage {@code s}, from {@code checkpoint}. */
        ArmProgress atStage(int s, String checkpoint) {
            return new ArmProgress(armIndex, s, checkpoint, curve, stages, overheadSeconds, overheadFlops);
        }

        /** After a stage: its result recorded and its selection overhead added. */
        ArmProgress after(StageResult r) {
            List<StageResult> all = new ArrayList<>(stages);
            all.add(r);
            return new ArmProgress(armIndex, stage, checkpoint, curve, all, overheadSeconds + r.overheadSeconds(),
                    overheadFlops + r.overheadFlops());
        }

        ArmResult finish(String name, int budgetSteps) {
            return new ArmResult(name, stages, curve, overheadSeconds, overheadFlops, budgetSteps);
        }
    }

    /** Everything a run needs to go on from a stage boundary. */
    public record Point(Map<String, String> config, String warmCheckpoint, List<EvalPoint> warmCurve,
                        List<ArmResult> finishedArms, ArmProgress current) {}

    private final String run;
    private final ObjectStore objects;
    private final StateStore state;

    public RunJournal(String run, ObjectStore objects, StateStore state) {
        this.run = run;
        this.objects = objects;
        this.state = state;
    }

    /** The point the run's pointer names, if any; refused when it was recorded under another config. */
    public Optional<Point> load(RunConfig cfg) {
        String key = state.get(StorageLayout.stateKey(run)).get(POINTER);
        if (key == null || key.isEmpty()) return Optional.empty();
        Point p;
        try {
            p = JSON.readValue(RunArtifacts.require(objects, key), Point.class);
        } catch (IOException e) {
            throw new ResumeException("run " + run + ": resume point " + key + " is not readable (" + e.getMessage()
                    + "); start a new run id");
        }
        if (!cfg.asMap().equals(p.config())) {
            throw new ResumeException("run " + run + " was started with another config; resume it with the same "
                    + "config, or start a new run id");
        }
        return Optional.of(p);
    }

    /** Records {@code p} as the run's resume point: the object first, the pointer last. */
    public void save(String arm, Point p) {
        String key = StorageLayout.journalKey(run, arm, p.current().stage());
        try {
            objects.put(key, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(p));
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize the resume point of run " + run, e);
        }
        state.put(StorageLayout.stateKey(run), Map.of(POINTER, key));
    }
}
