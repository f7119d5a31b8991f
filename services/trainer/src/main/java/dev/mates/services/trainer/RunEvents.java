package dev.mates.services.trainer;

import dev.mates.engine.util.Listener;
import dev.mates.proto.v1.Progress;
import dev.mates.proto.v1.RunEvent;
import dev.mates.proto.v1.RunStatus;
import io.quarkus.logging.Log;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One running run as the outside sees it: the engine's {@link Listener} of the run, turning phases, progress and
 * log lines into {@code WatchRun} events for its watchers and into the trainer's metrics, and holding the flags
 * that cancel it.
 */
final class RunEvents implements Listener {
    record Watcher(Consumer<RunEvent> sink, Runnable onEnd) {}

    final String id;
    private final long tokensPerStep;
    private final Supplier<RunStatus> status;
    private final AtomicLong tokensTrained;
    private final AtomicInteger currentStage;
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
    volatile boolean cancel;
    volatile boolean shutdown;
    /** Another trainer took over the run's owner lease: this one stops without recording an end. */
    volatile boolean fenced;
    private long lastProgressNanos;
    private long lastSteps;

    RunEvents(String id, long tokensPerStep, Supplier<RunStatus> status, AtomicLong tokensTrained, AtomicInteger currentStage) {
        this.id = id;
        this.tokensPerStep = tokensPerStep;
        this.status = status;
        this.tokensTrained = tokensTrained;
        this.currentStage = currentStage;
    }

    Runnable subscribe(Watcher w) {
        watchers.add(w);
        return () -> watchers.remove(w);
    }

    /** The run ended: every watcher gets the final status, then its stream ends. */
    void end(RunStatus last) {
        RunEvent ev = RunEvent.newBuilder().setStatus(last).build();
        for (Watcher w : watchers) {
            w.sink.accept(ev);
            w.onEnd.run();
        }
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
        publish(RunEvent.newBuilder().setStatus(status.get()).build());
    }

    @Override
    public void progress(String label, long done, long total, String unit, String detail) {
        if (unit.equals("steps")) {
            if (done < lastSteps) lastSteps = 0;
            tokensTrained.addAndGet((done - lastSteps) * tokensPerStep);
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
    public void warn(String line) {
        Log.warnf("run %s: %s", id, line);
        publish(RunEvent.newBuilder().setLog("warning: " + line).build());
    }

    @Override
    public boolean cancelled() {
        return cancel;
    }
}
