package dev.mates.engine.pipeline;

import dev.mates.engine.data.DataException;
import dev.mates.engine.data.Rejects;
import dev.mates.engine.report.RunReport;
import dev.mates.engine.store.ObjectStore;
import dev.mates.engine.store.StateStore;
import dev.mates.engine.util.Listener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The one way to run MATES, used by {@code mates run} and by the trainer service alike: resolve the data (the demo
 * when none is given), read it with every bad record collected as a reject, run the {@link Pipeline}, and write
 * the run's rejects and its one {@code report.json} to the object store ({@link StorageLayout}).
 */
public final class MatesRun {
    private MatesRun() {}

    /**
     * What to run: data specs as the user gave them (local paths; the caller fetches remote data first), the
     * selector and baseline arms, and a local work folder (demo corpus, the rejects file while it is written).
     */
    public record Request(String run, RunConfig cfg, List<String> pool, List<String> reference, List<String> heldout,
                          String selector, String baseline, Path workDir, boolean distributed) {}

    /** Runs {@code req} with roles from {@code roles}; returns the report it stored. */
    public static RunReport execute(Request req, ObjectStore objects, StateStore state, Roles.Factory roles,
                                    Listener listener) {
        long t0 = System.nanoTime();
        List<Arm> arms = Arm.of(req.selector(), req.baseline(), req.cfg().getDouble("selection.tau"));
        createDirectories(req.workDir());
        RunData data = RunData.resolve(req.pool(), req.reference(), req.heldout(), req.cfg(), req.workDir(), listener);
        Path rejectsFile = req.workDir().resolve(".rejects-" + req.run() + ".jsonl");
        String rejectsKey = StorageLayout.rejectsKey(req.run());
        Rejects rejects = new Rejects(rejectsFile);
        RunResult result;
        boolean ok = false;
        try {
            RunInputs inputs = RunInputs.load(data.pool(), data.reference(), data.heldout(), req.cfg(), rejects, listener);
            if (rejects.count() > 0) listener.warn(rejects.summary(objects.ref(rejectsKey)));
            result = new Pipeline(req.run(), req.cfg(), inputs, roles.create(inputs), objects, state).listener(listener)
                    .run(arms);
            ok = true;
        } catch (DataException e) {
            throw rejects.count() == 0 ? e : new DataException(e.getMessage() + "; rejects: " + objects.ref(rejectsKey), e);
        } finally {
            rejects.close();
            try {
                publish(rejectsFile, objects, rejectsKey);
            } catch (RuntimeException e) {
                if (ok) throw e;
                listener.warn("could not store the rejects (" + e.getMessage() + "); they are in " + rejectsFile);
            }
        }
        RunReport report = RunReport.of(result, data.demo(), req.distributed(), (System.nanoTime() - t0) / 1e9,
                new RunReport.Rejects(rejects.count(), rejects.countsByKind(), objects.ref(rejectsKey)));
        objects.put(StorageLayout.reportKey(req.run()), report.toJson());
        return report;
    }

    /** Moves the local rejects file into the store (an empty object when there were none). */
    private static void publish(Path file, ObjectStore objects, String key) {
        try {
            objects.put(key, Files.exists(file) ? Files.readAllBytes(file) : new byte[0]);
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the rejects file " + file, e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DataException("cannot create the work folder " + dir + ": " + e.getMessage()
                    + " (check that its parent is writable)", e);
        }
    }
}
