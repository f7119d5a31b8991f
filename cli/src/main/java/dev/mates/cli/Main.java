package dev.mates.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mates} command. */
@Command(name = "mates", mixinStandardHelpOptions = true, version = "mates 0.1.0",
        description = "Model-aware pretraining data selection (MATES).",
        subcommands = {RunCommand.class, RunLifecycleCommands.Status.class, RunLifecycleCommands.Watch.class,
            RunLifecycleCommands.Cancel.class, RunLifecycleCommands.Resume.class, CorpusCommand.class, BenchCommand.class,
            QueueBenchCommand.class, LoadTestCommand.class, ClusterCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // A user error gets one clear line, not a stack trace; a bug still shows its trace.
            if (ex instanceof dev.mates.engine.data.DataException
                    || ex instanceof dev.mates.engine.pipeline.RunConfig.ConfigException
                    || ex instanceof IllegalArgumentException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            if (ex instanceof RemoteTrainer.WatchStopped) {
                cmd.getErr().println("error: " + ex.getMessage());
                return RunLifecycleCommands.WATCH_STOPPED;
            }
            if (outOfMemory(ex)) return outOfMemory(cmd.getErr());
            throw ex;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            return outOfMemory(cl.getErr());
        }
    }

    private static boolean outOfMemory(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) if (c instanceof OutOfMemoryError) return true;
        return false;
    }

    private static int outOfMemory(java.io.PrintWriter err) {
        err.println("error: out of Java heap (" + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB): the pool is held in "
                + "memory; give the JVM more, e.g. MATES_JAVA_OPTS=-Xmx8g ./mates ...");
        return 3;
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }
}
