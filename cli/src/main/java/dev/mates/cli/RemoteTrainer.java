package dev.mates.cli;

import dev.mates.proto.v1.CancelRunRequest;
import dev.mates.proto.v1.GetReportRequest;
import dev.mates.proto.v1.GetRunRequest;
import dev.mates.proto.v1.Progress;
import dev.mates.proto.v1.Report;
import dev.mates.proto.v1.ResumeRunRequest;
import dev.mates.proto.v1.RunEvent;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import dev.mates.proto.v1.TrainerGrpc;
import dev.mates.proto.v1.WatchRunRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The CLI's connection to a trainer service: its RPCs, each failure turned into one line that names the status code
 * and what to do, and {@link #follow}, which prints a run's progress until it ends.
 */
final class RemoteTrainer implements AutoCloseable {
    /** Unary calls; WatchRun has none (a run lasts hours). */
    private static final Duration CALL_DEADLINE = Duration.ofSeconds(60);
    /** How long {@link #follow} keeps reconnecting to a trainer that went away (a restarted trainer resumes its runs). */
    static final Duration RECONNECT_FOR = Duration.ofMinutes(2);
    /** Watches in a row that end at once while the run has not ended, before {@link #follow} gives up. */
    private static final int IDLE_WATCHES = 5;
    /** A watch that delivered more than the run's status, or stayed open this long, was following a live run. */
    private static final Duration LIVE_WATCH = Duration.ofSeconds(2);

    private final String target;
    private final ManagedChannel channel;
    private final TrainerGrpc.TrainerBlockingStub stub;
    /** Between two watches that ended early, and between reconnection attempts. */
    private final Duration retryPause;

    RemoteTrainer(String target, AuthOptions auth) {
        this(target, auth, Duration.ofSeconds(2));
    }

    RemoteTrainer(String target, AuthOptions auth, Duration retryPause) {
        this.target = target;
        this.channel = auth.channel(target);
        this.stub = TrainerGrpc.newBlockingStub(channel);
        this.retryPause = retryPause;
    }

    /** The watch stopped before the run ended: the message says why and what to do. */
    static final class WatchStopped extends RuntimeException {
        WatchStopped(String message) {
            super(message);
        }
    }

    String target() {
        return target;
    }

    RunStatus start(StartRunRequest req) {
        return call(s -> s.startRun(req));
    }

    RunStatus get(String runId) {
        return call(s -> s.getRun(GetRunRequest.newBuilder().setRunId(runId).build()));
    }

    RunStatus cancel(String runId) {
        return call(s -> s.cancelRun(CancelRunRequest.newBuilder().setRunId(runId).build()));
    }

    RunStatus resume(String runId) {
        return call(s -> s.resumeRun(ResumeRunRequest.newBuilder().setRunId(runId).build()));
    }

    Report report(String runId) {
        return call(s -> s.getReport(GetReportRequest.newBuilder().setRunId(runId).build()));
    }

    private <T> T call(Function<TrainerGrpc.TrainerBlockingStub, T> rpc) {
        try {
            return rpc.apply(stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
        } catch (StatusRuntimeException e) {
            throw error(e);
        }
    }

    /**
     * Prints the run's status changes, progress and log lines (stderr) from WatchRun until the run ends, and returns its
     * final status. A stream that breaks off (the trainer died or restarts) is reopened for up to {@link #RECONNECT_FOR};
     * one that ends while the run has not is reopened a few times. Throws {@link WatchStopped} when the run has not
     * ended but cannot be followed any longer.
     */
    RunStatus follow(String runId) {
        WatchRunRequest req = WatchRunRequest.newBuilder().setRunId(runId).build();
        RunStatus last = null;
        String lastProgress = "";
        long lostAt = 0; // System.nanoTime() when the trainer stopped answering; 0 while it answers
        int idleWatches = 0;
        while (true) {
            try {
                long opened = System.nanoTime();
                int events = 0;
                Iterator<RunEvent> it = stub.watchRun(req);
                while (it.hasNext()) {
                    RunEvent e = it.next();
                    events++;
                    lostAt = 0;
                    switch (e.getEventCase()) {
                        case STATUS -> last = printChange(last, e.getStatus());
                        case PROGRESS -> lastProgress = printProgress(lastProgress, e.getProgress());
                        case LOG -> System.err.println(e.getLog());
                        default -> { }
                    }
                }
                RunStatus now = stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
                        .getRun(GetRunRequest.newBuilder().setRunId(runId).build());
                last = printChange(last, now);
                if (ended(now)) return now;
                boolean live = events > 1 || System.nanoTime() - opened > LIVE_WATCH.toNanos();
                idleWatches = live ? 0 : idleWatches + 1;
                if (idleWatches >= IDLE_WATCHES) {
                    throw new WatchStopped("run " + runId + " is " + state(now) + " but the trainer at " + target
                            + " is not executing it; if no trainer is, `mates resume " + runId + " --remote " + target + "` continues it");
                }
                if (!live) sleep(retryPause);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || last == null) throw error(e);
                if (lostAt == 0) {
                    lostAt = System.nanoTime();
                    System.err.println("lost the trainer at " + target + " (" + e.getStatus().getDescription()
                            + "); reconnecting for up to " + RECONNECT_FOR.toSeconds() + " s");
                } else if (System.nanoTime() - lostAt > RECONNECT_FOR.toNanos()) {
                    throw new WatchStopped("no trainer answered at " + target + " for " + RECONNECT_FOR.toSeconds()
                            + " s while run " + runId + " was " + state(last) + "; `mates watch " + runId + " --remote " + target
                            + "` follows it again once a trainer is up");
                }
                sleep(retryPause);
            }
        }
    }

    /** Prints a line when the run's state, phase, arm or stage changed; returns the new status. */
    private static RunStatus printChange(RunStatus last, RunStatus s) {
        if (last == null || s.getState() != last.getState() || !s.getPhase().equals(last.getPhase())
                || s.getStage() != last.getStage() || !s.getArm().equals(last.getArm())) {
            System.err.printf(Locale.ROOT, "[%s] %s%s stage %d, step %d%n", state(s).toLowerCase(Locale.ROOT), s.getPhase(),
                    s.getArm().isEmpty() ? "" : " (" + s.getArm() + ")", s.getStage(), s.getStep());
        }
        return s;
    }

    /** At most one line per tenth of the work (and the last), so a terminal or a log file is not flooded. */
    private static String printProgress(String lastLine, Progress p) {
        String line = String.format(Locale.ROOT, "%-10s %d/%d %s | %s", p.getLabel(), p.getDone(), p.getTotal(), p.getUnit(), p.getDetail());
        if (!line.equals(lastLine) && (p.getDone() == p.getTotal() || p.getDone() % 10 == 0)) System.err.println(line);
        return line;
    }

    /** SUCCEEDED, FAILED and CANCELLED are final; every other state (PENDING, RUNNING, states added later) is not. */
    static boolean ended(RunStatus s) {
        return s.getState() == RunState.RUN_STATE_SUCCEEDED || s.getState() == RunState.RUN_STATE_FAILED
                || s.getState() == RunState.RUN_STATE_CANCELLED;
    }

    /** The state's name without its prefix (RUNNING), also for states this build does not know yet. */
    static String state(RunStatus s) {
        return s.getState() == RunState.UNRECOGNIZED ? "STATE_" + s.getStateValue() : s.getState().name().replace("RUN_STATE_", "");
    }

    /** One line: run, state, phase, arm, stage, step, resumes, and the error, checkpoint or report when there is one. */
    static String line(RunStatus s) {
        StringBuilder b = new StringBuilder("run ").append(s.getRunId()).append(": ").append(state(s));
        if (!s.getPhase().isEmpty()) {
            b.append(" | ").append(s.getPhase()).append(s.getArm().isEmpty() ? "" : " (" + s.getArm() + ")")
                    .append(", stage ").append(s.getStage()).append(", step ").append(s.getStep());
        }
        b.append(" | resumes ").append(s.getResumes());
        if (!s.getError().isEmpty()) b.append(" | error: ").append(s.getError().strip().replace('\n', ' '));
        if (!s.getReportRef().isEmpty()) b.append(" | report ").append(s.getReportRef());
        else if (!s.getCheckpointRef().isEmpty()) b.append(" | checkpoint ").append(s.getCheckpointRef());
        return b.toString();
    }

    /** One line for a refused call: the status code, the trainer's description and what to do. */
    IllegalArgumentException error(StatusRuntimeException e) {
        Status st = e.getStatus();
        String desc = st.getDescription() == null ? "" : st.getDescription();
        String code = st.getCode().name();
        String what = switch (st.getCode()) {
            case NOT_FOUND -> "no such run on the trainer at " + target + " (" + desc + ")";
            case FAILED_PRECONDITION -> desc;
            case UNAVAILABLE -> "no trainer answers at " + target + " (" + desc + "): is the trainer running at " + target
                    + "? Start one with `mates cluster up --detach`; if it serves TLS, pass --tls-ca (and --tls-cert/--tls-key for mutual TLS)";
            case UNAUTHENTICATED -> "the trainer at " + target + " refused the token (" + desc + "): set " + RemoteAuth.ENV
                    + " or pass --token-file FILE with a client token of that deployment";
            case PERMISSION_DENIED -> "not allowed: " + desc;
            case DEADLINE_EXCEEDED -> "the trainer at " + target + " did not answer within " + CALL_DEADLINE.toSeconds() + " s";
            default -> desc;
        };
        return new IllegalArgumentException(code + ": " + what, e);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WatchStopped("interrupted");
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
