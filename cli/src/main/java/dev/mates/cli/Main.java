package dev.mates.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code mates} command. */
@Command(name = "mates", mixinStandardHelpOptions = true, version = "mates 0.1.0",
        description = "Model-aware pretraining data selection (MATES).",
        subcommands = {RunCommand.class, CorpusCommand.class, BenchCommand.class, QueueBenchCommand.class, ClusterCommand.class})
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
            throw ex;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }
}
