package dev.mates.cli;

import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mates status|watch|cancel|resume RUN_ID}: a run on a trainer service, without grpcurl. Each talks to
 * {@code --remote HOST:PORT} (default: the trainer of the local cluster started from this folder) with the token and
 * TLS options of {@code run --remote}.
 */
final class RunLifecycleCommands {
    private RunLifecycleCommands() {}

    /** A run that ended in a state other than SUCCEEDED. */
    static final int FAILED = 1;
    /** A bad option, or a call the trainer refused (the "error:" line names the gRPC status code). */
    static final int ERROR = 2;
    static final int CANCELLED = 4;
    /** The watch stopped before the run ended. */
    static final int WATCH_STOPPED = 5;

    /** RUN_ID, the trainer to call and how to authenticate to it. */
    static final class RunOnTrainer {
        @Parameters(paramLabel = "RUN_ID", description = "The run's id.")
        String runId;

        @Option(names = "--remote", paramLabel = "HOST:PORT", description = "The trainer (default: the trainer of the local "
                + "cluster in .mates-cluster, when one is up).")
        String remote;

        @Mixin
        AuthOptions auth = new AuthOptions();

        /** Connects to the trainer, runs {@code command} and closes the connection; returns the command's exit code. */
        int call(Function<RemoteTrainer, Integer> command) {
            String target = remote != null ? remote : RemoteAuth.localTrainer().orElseThrow(() -> new IllegalArgumentException(
                    "--remote HOST:PORT is required: no local cluster is up in " + RemoteAuth.LOCAL_CLUSTER
                            + " (start one with `mates cluster up --detach`)"));
            try (RemoteTrainer t = new RemoteTrainer(target, auth)) {
                return command.apply(t);
            }
        }
    }

    /** The exit code of a watched run: 0 only when it SUCCEEDED. */
    static int exitCode(RunStatus s) {
        if (s.getState() == RunState.RUN_STATE_SUCCEEDED) return 0;
        return s.getState() == RunState.RUN_STATE_CANCELLED ? CANCELLED : FAILED;
    }

    static int watch(RemoteTrainer trainer, String runId) {
        RunStatus end = trainer.follow(runId);
        System.out.println(RemoteTrainer.line(end));
        return exitCode(end);
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Print a run's status on one line (GetRun).",
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {
                "0:the trainer answered",
                ERROR + ":bad option, or the trainer refused the call (NOT_FOUND, UNAVAILABLE, UNAUTHENTICATED…)"})
    static final class Status implements Callable<Integer> {
        @Mixin
        RunOnTrainer run = new RunOnTrainer();

        @Override
        public Integer call() {
            return run.call(t -> {
                System.out.println(RemoteTrainer.line(t.get(run.runId)));
                return 0;
            });
        }
    }

    @Command(name = "watch", mixinStandardHelpOptions = true,
            description = {"Follow a run (WatchRun) until it ends: its phases, progress and log lines on stderr, its final "
                + "status on stdout. Reconnects for up to 2 minutes when the trainer goes away (a restarted trainer resumes its runs)."},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {
                "0:the run SUCCEEDED",
                FAILED + ":the run ended FAILED",
                ERROR + ":bad option, or the trainer refused a call (NOT_FOUND, UNAVAILABLE, UNAUTHENTICATED…)",
                CANCELLED + ":the run ended CANCELLED",
                WATCH_STOPPED + ":the watch stopped before the run ended (the trainer is not executing it, or did not answer for 2 minutes)"})
    static final class Watch implements Callable<Integer> {
        @Mixin
        RunOnTrainer run = new RunOnTrainer();

        @Override
        public Integer call() {
            return run.call(t -> watch(t, run.runId));
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true,
            description = "Cancel a running run (CancelRun): it stops at its next step and stays resumable.",
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {
                "0:the trainer accepted the cancellation",
                ERROR + ":bad option, or the trainer refused (NOT_FOUND, FAILED_PRECONDITION: the run is not running, UNAVAILABLE…)"})
    static final class Cancel implements Callable<Integer> {
        @Mixin
        RunOnTrainer run = new RunOnTrainer();

        @Override
        public Integer call() {
            return run.call(t -> {
                System.out.println(RemoteTrainer.line(t.cancel(run.runId)));
                System.err.println("run " + run.runId + " stops at its next step; `mates resume " + run.runId + "` continues it");
                return 0;
            });
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = {"Continue a cancelled or failed run from its last stage boundary (ResumeRun), then follow it "
                + "as `mates watch` does, unless --detach."},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {
                "0:the run SUCCEEDED (with --detach: the trainer resumed it)",
                FAILED + ":the run ended FAILED",
                ERROR + ":bad option, or the trainer refused a call (NOT_FOUND, FAILED_PRECONDITION: running or succeeded, "
                    + "RESOURCE_EXHAUSTED: too many runs, UNAVAILABLE…)",
                CANCELLED + ":the run ended CANCELLED",
                WATCH_STOPPED + ":the watch stopped before the run ended"})
    static final class Resume implements Callable<Integer> {
        @Option(names = "--detach", description = "Return once the trainer has resumed the run, without following it.")
        boolean detach;
        @Mixin
        RunOnTrainer run = new RunOnTrainer();

        @Override
        public Integer call() {
            return run.call(t -> {
                System.out.println(RemoteTrainer.line(t.resume(run.runId)));
                return detach ? 0 : watch(t, run.runId);
            });
        }
    }
}
