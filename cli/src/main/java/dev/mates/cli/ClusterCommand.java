package dev.mates.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.cli.cluster.LocalCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code mates cluster up|down|status}: the distributed system on this machine, on loopback. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Start or stop the distributed system on this machine: redis-server, S3Proxy and the four services.",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Down.class, ClusterCommand.Status.class})
public final class ClusterCommand implements Runnable {
    @Override
    public void run() {
        picocli.CommandLine.usage(this, System.out);
    }

    static Path home() {
        return Path.of(System.getProperty("mates.home", ".")).toAbsolutePath().normalize();
    }

    static JsonNode state(Path dir) throws Exception {
        Path f = dir.resolve(LocalCluster.STATE_FILE);
        if (!Files.isRegularFile(f)) return null;
        return new ObjectMapper().readTree(f.toFile());
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {"Start the cluster and wait until every service is ready.",
                "Runs in the foreground until Ctrl-C or `mates cluster down`; --detach returns once it is ready."})
    static final class Up implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--dir", description = "State, data and logs (default: ${DEFAULT-VALUE}).")
        Path dir = Path.of(".mates-cluster");
        @Option(names = "--port-base", description = "Trainer port; the others follow (default: ${DEFAULT-VALUE}).")
        int portBase = 9000;
        @Option(names = "--probers", description = "Oracle-prober processes (default: ${DEFAULT-VALUE}).")
        int probers = 1;
        @Option(names = "--scorers", description = "Scorer processes (default: ${DEFAULT-VALUE}).")
        int scorers = 1;
        @Option(names = "--scorer-workers", description = "Queue worker threads per scorer (default: ${DEFAULT-VALUE}).")
        int scorerWorkers = 1;
        @Option(names = "--heap", description = "Java heap of each service (default: ${DEFAULT-VALUE}).")
        String heap = "2g";
        @Option(names = "--detach", description = "Start in the background and return once ready.")
        boolean detach;
        @Option(names = "--data-root", paramLabel = "DIR", description = "A local folder the trainer may read data files "
                + "from (repeatable; default: none, data must be s3:// objects of the cluster's bucket).")
        List<Path> dataRoots = new ArrayList<>();
        @Option(names = "--tls", description = "Mutual TLS on every gRPC port, with certificates from a throwaway CA "
                + "written to <dir>/tls (the CLI uses its client certificate for this cluster by default).")
        boolean tls;

        @Override
        public Integer call() throws Exception {
            if (probers < 1 || probers > 4) throw new IllegalArgumentException("--probers: 1 to 4, got " + probers);
            if (scorers < 1 || scorers > 14) throw new IllegalArgumentException("--scorers: 1 to 14, got " + scorers);
            dir = dir.toAbsolutePath();
            JsonNode st = state(dir);
            if (st != null && ProcessHandle.of(st.get("pid").asLong()).map(ProcessHandle::isAlive).orElse(false)) {
                throw new IllegalArgumentException("a cluster is already up from " + dir + " (trainer " + st.get("trainer").asText()
                        + "); run `mates cluster down --dir " + dir + "` first");
            }
            dev.mates.local.PrivateFiles.createDirectory(dir); // it holds secrets: owner-only
            if (detach) return detach();
            System.err.println("starting redis-server, S3Proxy and the services (logs in " + dir.resolve("logs") + ") …");
            LocalCluster c = LocalCluster.start(new LocalCluster.Options(dir, home(), portBase, probers, scorers, scorerWorkers, heap, dataRoots, tls));
            System.out.println("cluster up: trainer " + c.trainerAddress() + " | S3 " + c.s3Endpoint() + " | Redis " + c.redisUri());
            System.out.println("client token: " + c.tokenFile() + " (mode 0600; `mates run --remote` from this folder uses it, "
                    + "elsewhere pass --token-file or set MATES_TOKEN)");
            System.out.println("submit a run: mates run --remote " + c.trainerAddress() + " --quick");
            System.out.flush();
            CountDownLatch forever = new CountDownLatch(1);
            forever.await(); // the shutdown hook stops everything on Ctrl-C / SIGTERM (`mates cluster down`)
            return 0;
        }

        /** Re-runs `cluster up` without --detach as a background JVM, then waits for its cluster.json. */
        private int detach() throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dmates.home=" + home(), "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "cluster", "up", "--dir", dir.toString(), "--port-base", Integer.toString(portBase),
                    "--probers", Integer.toString(probers), "--scorers", Integer.toString(scorers),
                    "--scorer-workers", Integer.toString(scorerWorkers), "--heap", heap));
            if (tls) cmd.add("--tls");
            for (Path r : dataRoots) {
                cmd.add("--data-root");
                cmd.add(r.toAbsolutePath().toString());
            }
            Path log = dir.resolve("cluster.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.currentTimeMillis() + 300_000;
            while (System.currentTimeMillis() < deadline) {
                JsonNode st = state(dir);
                if (st != null && st.get("pid").asLong() == p.pid()) {
                    System.out.println("cluster up (pid " + p.pid() + "): trainer " + st.get("trainer").asText()
                            + " | logs " + dir.resolve("logs") + "\nclient token: " + st.path("token_file").asText()
                            + "\nsubmit a run: mates run --remote " + st.get("trainer").asText()
                            + " --quick\nstop it: mates cluster down --dir " + dir);
                    return 0;
                }
                if (!p.isAlive()) {
                    System.err.println("error: the cluster did not start:\n" + Files.readString(log));
                    return 1;
                }
                Thread.sleep(500);
            }
            p.destroy();
            System.err.println("error: the cluster was not ready after 300 s; see " + log);
            return 1;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true, description = "Stop a cluster started with `mates cluster up`.")
    static final class Down implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--dir", description = "The cluster's directory (default: ${DEFAULT-VALUE}).")
        Path dir = Path.of(".mates-cluster");

        @Override
        public Integer call() throws Exception {
            JsonNode st = state(dir.toAbsolutePath());
            if (st == null) {
                System.out.println("no cluster is up from " + dir.toAbsolutePath());
                return 0;
            }
            Optional<ProcessHandle> h = ProcessHandle.of(st.get("pid").asLong());
            if (h.isEmpty() || !h.get().isAlive()) {
                Files.deleteIfExists(dir.toAbsolutePath().resolve(LocalCluster.STATE_FILE));
                System.out.println("the cluster's supervisor (pid " + st.get("pid").asLong() + ") is gone; removed its state");
                return 0;
            }
            h.get().destroy();
            h.get().onExit().get(90, TimeUnit.SECONDS);
            System.out.println("cluster down (data kept in " + dir.toAbsolutePath() + ")");
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {"List the cluster's processes: name, pid, gRPC port, management port, whether the process is alive, "
                + "and its readiness (GET /q/health/ready on the management port; for redis and s3, whether the port accepts connections)."},
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {"0:every process is alive and ready", "1:some process is dead or not ready",
                "3:no cluster is up from --dir"})
    static final class Status implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--dir", description = "The cluster's directory (default: ${DEFAULT-VALUE}).")
        Path dir = Path.of(".mates-cluster");
        @Option(names = "--json", description = "Print the cluster's state file with alive and health added, instead of a table.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode st = state(dir.toAbsolutePath());
            if (st == null) {
                System.out.println("no cluster is up from " + dir.toAbsolutePath());
                return 3;
            }
            long supervisor = st.path("pid").asLong();
            boolean supervisorAlive = alive(supervisor);
            boolean allOk = supervisorAlive;
            ArrayNode rows = new ObjectMapper().createArrayNode();
            for (JsonNode p : st.path("processes")) {
                boolean up = alive(p.path("pid").asLong());
                String health = !up ? "-" : p.path("management_port").asInt() > 0 ? health(p.path("management_port").asInt())
                        : accepts(p.path("port").asInt()) ? "listening" : "not listening";
                allOk &= up && (health.equals("ready") || health.equals("listening"));
                rows.add(((ObjectNode) p.deepCopy()).put("alive", up).put("health", health));
            }
            if (json) {
                ObjectNode out = ((ObjectNode) st.deepCopy());
                out.put("supervisor_alive", supervisorAlive).set("processes", rows);
                System.out.println(out.toPrettyString());
                return allOk ? 0 : 1;
            }
            System.out.printf(Locale.ROOT, "cluster from %s: supervisor pid %d (%s)%s | tls %s%n", dir.toAbsolutePath(),
                    supervisor, supervisorAlive ? "alive" : "gone", st.has("trainer") ? " | trainer " + st.get("trainer").asText() : "",
                    st.path("tls").asBoolean() ? "on" : "off");
            System.out.printf(Locale.ROOT, "%-16s %8s %6s %6s %6s  %s%n", "name", "pid", "port", "mgmt", "alive", "health");
            for (JsonNode r : rows) {
                int mgmt = r.path("management_port").asInt();
                System.out.printf(Locale.ROOT, "%-16s %8d %6d %6s %6s  %s%n", r.path("name").asText(), r.path("pid").asLong(),
                        r.path("port").asInt(), mgmt > 0 ? Integer.toString(mgmt) : "-", r.path("alive").asBoolean() ? "yes" : "no",
                        r.path("health").asText());
            }
            System.out.println("logs: " + dir.toAbsolutePath().resolve("logs"));
            return allOk ? 0 : 1;
        }

        private static boolean alive(long pid) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }

        /** ready, not ready (the HTTP status), or no answer: a 2-second bound, so a stopped process cannot hang the command. */
        static String health(int managementPort) {
            int code = LocalCluster.readiness(managementPort, 2000);
            return code == 200 ? "ready" : code < 0 ? "no answer" : "not ready (" + code + ")";
        }

        private static boolean accepts(int port) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
    }
}
