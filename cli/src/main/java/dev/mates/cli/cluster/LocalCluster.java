package dev.mates.cli.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.local.LocalRedis;
import dev.mates.local.LocalS3;
import dev.mates.local.PrivateFiles;
import dev.mates.local.Certificates;
import dev.mates.proto.auth.Channels;
import dev.mates.proto.auth.TokenFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The distributed system on one machine, on loopback: a real redis-server, S3Proxy as the S3 server, and the four
 * Quarkus services as separate JVMs (any number of prober and scorer processes). Ports from a base: trainer
 * base, probers base+1.., influence model base+5, scorers base+6.., S3 base+20, Redis base+21; each service's health and
 * metrics (management interface) on its port + 30. {@link Options#onlyScorers()} starts the stores and the scorers alone.
 * {@link #stop()} (or JVM exit) stops everything it started.
 */
public final class LocalCluster implements AutoCloseable {
    public static final String ACCESS_KEY = "mates-local";
    public static final String BUCKET = "mates";
    /** The client token, in the cluster's folder (mode 0600); the CLI uses it for a local cluster by default. */
    public static final String TOKEN_FILE = "token";
    /** The service token the trainer sends to the probers and the influence model. */
    public static final String INTERNAL_TOKEN_FILE = "internal-token";
    /** The S3 server's secret key, random per cluster folder (mode 0600), given to the services by environment. */
    public static final String S3_SECRET_FILE = "s3-secret";

    /**
     * @param dataRoots        local folders the trainer may read pool, reference and held-out files from (empty: s3:// only)
     * @param tls              mutual TLS on every gRPC port, with certificates from a throwaway CA in {@code <dir>/tls}
     * @param scorersOnly      only redis-server, S3Proxy and the scorers: no trainer, probers or influence model (what a
     *                         scoring benchmark needs; {@code probers} is then ignored)
     * @param scorerProperties extra system properties of every scorer (e.g. {@code mates.scorer.max-batch=1})
     * @param trainerProperties extra system properties of the trainer (e.g. {@code mates.trainer.owner-lease=6s})
     */
    public record Options(Path dir, Path home, int portBase, int probers, int scorers, int scorerWorkers, String javaHeap,
                          List<Path> dataRoots, boolean tls, boolean scorersOnly, Map<String, String> scorerProperties,
                          Map<String, String> trainerProperties) {
        public Options {
            dataRoots = List.copyOf(dataRoots);
            scorerProperties = Map.copyOf(scorerProperties);
            trainerProperties = Map.copyOf(trainerProperties);
        }

        public Options(Path dir, Path home, int portBase, int probers, int scorers, int scorerWorkers, String javaHeap,
                       List<Path> dataRoots, boolean tls, boolean scorersOnly, Map<String, String> scorerProperties) {
            this(dir, home, portBase, probers, scorers, scorerWorkers, javaHeap, dataRoots, tls, scorersOnly, scorerProperties, Map.of());
        }

        public Options(Path dir, Path home, int portBase, int probers, int scorers, int scorerWorkers, String javaHeap,
                       List<Path> dataRoots, boolean tls) {
            this(dir, home, portBase, probers, scorers, scorerWorkers, javaHeap, dataRoots, tls, false, Map.of());
        }

        /** The same cluster with these extra trainer system properties. */
        public Options withTrainerProperties(Map<String, String> props) {
            return new Options(dir, home, portBase, probers, scorers, scorerWorkers, javaHeap, dataRoots, tls, scorersOnly,
                    scorerProperties, props);
        }

        public Options(Path dir, Path home, int portBase, int probers, int scorers, int scorerWorkers, String javaHeap) {
            this(dir, home, portBase, probers, scorers, scorerWorkers, javaHeap, List.of(), false);
        }

        /** The same cluster without the trainer, the probers and the influence model. */
        public Options onlyScorers() {
            return new Options(dir, home, portBase, probers, scorers, scorerWorkers, javaHeap, dataRoots, tls, true, scorerProperties,
                    trainerProperties);
        }

        /** The same cluster with these extra scorer system properties. */
        public Options withScorerProperties(Map<String, String> props) {
            return new Options(dir, home, portBase, probers, scorers, scorerWorkers, javaHeap, dataRoots, tls, scorersOnly, props,
                    trainerProperties);
        }

        List<String> serviceJars() {
            return scorersOnly ? List.of("scorer") : List.of("trainer", "oracle-prober", "influence-model", "scorer");
        }
    }

    /**
     * One process of a running cluster, e.g. for a fault-injection test to kill ({@code handle().destroyForcibly()})
     * or stop ({@code kill -STOP pid}).
     *
     * @param name           trainer, prober-0.., influence-model, scorer-0.., redis or s3
     * @param managementPort health and metrics over HTTP (services), 0 for redis and s3
     */
    public record ClusterProcess(String name, long pid, int port, int managementPort, ProcessHandle handle) {}

    /** The cluster's state in its folder while it runs (written once every service is ready, removed at stop). */
    public static final String STATE_FILE = "cluster.json";
    /** The server certificate of every service (127.0.0.1, localhost) and the client certificate of the trainer and the CLI. */
    public static final String TLS_DIR = "tls";

    private final Options o;
    private final List<Service> services = new ArrayList<>();
    private LocalRedis redis;
    private LocalS3 s3;
    private String secretKey;
    private final Thread hook = new Thread(this::stopQuietly, "mates-cluster-stop");

    /** Health and metrics (the Quarkus management interface) listen this far above a service's gRPC port. */
    public static final int MANAGEMENT_OFFSET = 30;

    /** {@code jar}: the service module it runs; {@code props}: what {@link #restart} starts it with again. */
    private record Service(String name, String jar, int port, Process process, Path log, Map<String, String> props) {
        int managementPort() {
            return port + MANAGEMENT_OFFSET;
        }
    }

    private LocalCluster(Options o) {
        this.o = o;
    }

    public static Path serviceJar(Path home, String service) {
        return home.resolve("services").resolve(service).resolve("target/quarkus-app/quarkus-run.jar");
    }

    /** Starts everything and waits until every service is ready; on failure stops what started and says why. */
    public static LocalCluster start(Options o) {
        for (String s : o.serviceJars()) {
            if (!Files.isRegularFile(serviceJar(o.home, s))) {
                throw new IllegalArgumentException("service " + s + " is not built (" + serviceJar(o.home, s) + " missing); "
                        + "build the services with: ./mvnw -B -DskipTests install");
            }
        }
        LocalCluster c = new LocalCluster(o);
        Runtime.getRuntime().addShutdownHook(c.hook);
        try {
            c.startAll();
            return c;
        } catch (RuntimeException e) {
            c.stopQuietly();
            throw e;
        }
    }

    private void startAll() {
        try {
            PrivateFiles.createDirectory(o.dir); // it holds secrets: owner-only
            Files.createDirectories(o.dir.resolve("logs"));
            // Secrets live in files readable by their owner only; a cluster folder keeps them across restarts.
            PrivateFiles.randomSecretIfAbsent(tokenFile());
            PrivateFiles.randomSecretIfAbsent(o.dir.resolve(INTERNAL_TOKEN_FILE));
            PrivateFiles.randomSecretIfAbsent(o.dir.resolve(S3_SECRET_FILE));
            secretKey = TokenFile.open("cluster S3 secret", o.dir.resolve(S3_SECRET_FILE)).token();
            if (o.tls && !Files.isRegularFile(o.dir.resolve(TLS_DIR).resolve("client/tls.key"))) {
                Certificates ca = Certificates.newAuthority("mates local cluster CA", Duration.ofDays(365));
                ca.issue("mates-local-services", List.of("127.0.0.1", "localhost"), Duration.ofDays(365), o.dir.resolve(TLS_DIR).resolve("server"));
                ca.issue("mates-local-client", List.of(), Duration.ofDays(365), o.dir.resolve(TLS_DIR).resolve("client"));
            }
            redis = LocalRedis.start(o.portBase + 21, Files.createDirectories(o.dir.resolve("redis")));
            s3 = LocalS3.start(LocalS3.locateJar(), o.portBase + 20, Files.createDirectories(o.dir.resolve("s3")), ACCESS_KEY, secretKey);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!o.scorersOnly) {
            for (int i = 0; i < o.probers; i++) launch("prober-" + i, "oracle-prober", o.portBase + 1 + i, Map.of());
            launch("influence-model", "influence-model", o.portBase + 5, Map.of());
        }
        for (int i = 0; i < o.scorers; i++) {
            Map<String, String> props = new LinkedHashMap<>(Map.of("mates.scorer.workers", Integer.toString(o.scorerWorkers),
                    "mates.scorer.consumer", "local-scorer-" + i));
            props.putAll(o.scorerProperties);
            launch("scorer-" + i, "scorer", o.portBase + 6 + i, props);
        }
        if (!o.scorersOnly) launch("trainer", "trainer", o.portBase, trainerProps());
        for (Service s : services) awaitReady(s);
        writeState();
    }

    private Map<String, String> trainerProps() {
        List<String> probers = new ArrayList<>();
        for (int i = 0; i < o.probers; i++) probers.add("127.0.0.1:" + (o.portBase + 1 + i));
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mates.trainer.probers", String.join(",", probers));
        m.put("mates.trainer.influence-model", "127.0.0.1:" + (o.portBase + 5));
        m.put("mates.trainer.work-dir", o.dir.resolve("trainer").toString());
        if (!o.dataRoots.isEmpty()) {
            m.put("mates.trainer.data-roots", String.join(",", o.dataRoots.stream().map(p -> p.toAbsolutePath().normalize().toString()).toList()));
        }
        m.putAll(o.trainerProperties);
        return m;
    }

    private void launch(String name, String jar, int port, Map<String, String> extra) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put("quarkus.http.port", Integer.toString(port));
        props.put("quarkus.http.host", "127.0.0.1");
        props.put("quarkus.management.port", Integer.toString(port + MANAGEMENT_OFFSET));
        props.put("quarkus.management.host", "127.0.0.1");
        props.put("mates.object-store.endpoint", s3.endpoint());
        props.put("mates.object-store.bucket", BUCKET);
        props.put("mates.auth.token-file", tokenFile().toString());
        props.put("mates.auth.internal-token-file", o.dir.resolve(INTERNAL_TOKEN_FILE).toString());
        if (o.tls) {
            // The services' own TLS profile, as in Kubernetes: the probers and the influence model require the trainer's certificate.
            Path server = o.dir.resolve(TLS_DIR).resolve("server");
            props.put("quarkus.profile", "prod,tls");
            props.put("mates.tls.cert-file", server.resolve("tls.crt").toString());
            props.put("mates.tls.key-file", server.resolve("tls.key").toString());
            props.put("mates.tls.ca-file", server.resolve("ca.crt").toString());
            props.put("quarkus.http.ssl-port", Integer.toString(port));
        }
        props.put("mates.redis.uri", redis.uri());
        props.put("ai.djl.offline", "true");
        props.putAll(extra);
        List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx" + o.javaHeap));
        props.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(serviceJar(o.home, jar).toString());
        Path log = o.dir.resolve("logs").resolve(name + ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            // Credentials by environment, never on the command line (where `ps` shows them to every user).
            pb.environment().put("MATES_OBJECT_STORE_ACCESS_KEY", ACCESS_KEY);
            pb.environment().put("MATES_OBJECT_STORE_SECRET_KEY", secretKey);
            Process p = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .directory(o.dir.toFile()).start();
            services.add(new Service(name, jar, port, p, log, Map.copyOf(extra)));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private void awaitReady(Service s) {
        long deadline = System.currentTimeMillis() + 180_000;
        while (System.currentTimeMillis() < deadline) {
            if (!s.process.isAlive()) {
                throw new IllegalStateException(s.name + " exited with " + s.process.exitValue() + " while starting\n" + tail(s.log));
            }
            if (readiness(s.managementPort(), 5000) == 200) return;
            sleep(300);
        }
        throw new IllegalStateException(s.name + " not ready on port " + s.port + " after 180 s\n" + tail(s.log));
    }

    /**
     * cluster.json: what `mates cluster status`, `cluster down` and the CLI's defaults (token, TLS, trainer address) read
     * back: the supervisor's pid, the addresses, and every child process with its pid, ports and log.
     */
    /**
     * The HTTP status of {@code GET /q/health/ready} on a service's management port (200 ready, 503 not ready), or -1
     * when nothing answers within {@code timeoutMillis}.
     */
    public static int readiness(int managementPort, int timeoutMillis) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + managementPort + "/q/health/ready").toURL().openConnection();
            c.setConnectTimeout(Math.min(1000, timeoutMillis));
            c.setReadTimeout(timeoutMillis);
            try {
                return c.getResponseCode();
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return -1; // not listening (yet), or no answer in time
        }
    }

    private void writeState() {
        ObjectNode st = new ObjectMapper().createObjectNode();
        st.put("pid", ProcessHandle.current().pid());
        if (!o.scorersOnly) st.put("trainer", trainerAddress());
        st.put("s3", s3.endpoint());
        st.put("redis", redis.uri());
        st.put("token_file", tokenFile().toString());
        st.put("tls", o.tls);
        if (o.tls) st.put("tls_client_dir", o.dir.resolve(TLS_DIR).resolve("client").toString());
        ArrayNode procs = st.putArray("processes");
        for (Service s : services) {
            procs.addObject().put("name", s.name).put("pid", s.process.pid()).put("port", s.port)
                    .put("management_port", s.managementPort()).put("log", s.log.toString());
        }
        procs.addObject().put("name", "redis").put("pid", redis.pid()).put("port", redis.port()).put("log", redis.logFile().toString());
        procs.addObject().put("name", "s3").put("pid", s3.pid()).put("port", s3.port()).put("log", s3.logFile().toString());
        try {
            Files.writeString(o.dir.resolve(STATE_FILE), st.toPrettyString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String trainerAddress() {
        return "127.0.0.1:" + o.portBase;
    }

    /** The client token file (mode 0600) a CLI or a test uses to call the trainer and the scorers. */
    public Path tokenFile() {
        return o.dir.resolve(TOKEN_FILE);
    }

    /** The client side of the cluster's mutual TLS (its CA and a client certificate), or plaintext. */
    public Channels.Tls clientTls() {
        if (!o.tls) return Channels.Tls.NONE;
        Path c = o.dir.resolve(TLS_DIR).resolve("client");
        return new Channels.Tls(c.resolve("ca.crt"), c.resolve("tls.crt"), c.resolve("tls.key"));
    }

    /** The S3 server's secret key (for tests and tools on this machine). */
    public String secretKey() {
        return secretKey;
    }

    public String s3Endpoint() {
        return s3.endpoint();
    }

    public String redisUri() {
        return redis.uri();
    }

    /** The scorers' gRPC addresses (127.0.0.1:port), scorer-0 first. */
    public List<String> scorerAddresses() {
        return services.stream().filter(s -> s.jar.equals("scorer")).map(s -> "127.0.0.1:" + s.port).toList();
    }

    /** Every process of the cluster: the services in start order, then redis and s3. */
    public List<ClusterProcess> processes() {
        List<ClusterProcess> l = new ArrayList<>();
        for (Service s : services) l.add(new ClusterProcess(s.name, s.process.pid(), s.port, s.managementPort(), s.process.toHandle()));
        l.add(new ClusterProcess("redis", redis.pid(), redis.port(), 0, handle(redis.pid())));
        l.add(new ClusterProcess("s3", s3.pid(), s3.port(), 0, handle(s3.pid())));
        return l;
    }

    /** The process named {@code name} (see {@link ClusterProcess#name}). */
    public ClusterProcess process(String name) {
        return processes().stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no process " + name + " in this cluster"));
    }

    private static ProcessHandle handle(long pid) {
        return ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("process " + pid + " is gone"));
    }

    /**
     * Starts a process again after it died (e.g. the trainer, to resume its runs), with the settings it had; a live one
     * is stopped first. {@code redis} and {@code s3} come back on the same port with the same data folder.
     */
    public void restart(String name) {
        if (name.equals("s3") || name.equals("redis")) {
            try {
                if (name.equals("s3")) {
                    s3.stop();
                    s3 = LocalS3.start(LocalS3.locateJar(), o.portBase + 20, o.dir.resolve("s3"), ACCESS_KEY, secretKey);
                } else {
                    redis.stop();
                    redis = LocalRedis.start(o.portBase + 21, o.dir.resolve("redis"));
                }
            } catch (RuntimeException e) {
                throw new IllegalStateException("could not start " + name + " again: " + e.getMessage(), e);
            }
            writeState();
            return;
        }
        Service old = services.stream().filter(s -> s.name.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no service " + name));
        if (old.process.isAlive()) {
            old.process.destroy();
            try {
                old.process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        services.remove(old);
        int before = services.size();
        launch(old.name, old.jar, old.port, old.props);
        awaitReady(services.get(before));
        writeState();
    }

    public void stop() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down
        }
        stopQuietly();
    }

    @Override
    public void close() {
        stop();
    }

    private synchronized void stopQuietly() {
        // The trainer first, so it stops its runs (they stay resumable), then the workers, then the stores.
        for (int i = services.size() - 1; i >= 0; i--) services.get(i).process.destroy();
        for (Service s : services) {
            try {
                if (!s.process.waitFor(20, TimeUnit.SECONDS)) s.process.destroyForcibly();
            } catch (InterruptedException e) {
                s.process.destroyForcibly();
            }
        }
        services.clear();
        if (s3 != null) s3.stop();
        if (redis != null) redis.stop();
        try {
            Files.deleteIfExists(o.dir.resolve(STATE_FILE));
        } catch (IOException ignored) {
            // best effort
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "--- last lines of " + log + " ---\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log at " + log + ")";
        }
    }

    /** A port base whose 50 ports (services, S3, Redis, the services' management ports) were all free a moment ago. */
    public static int freePortBase() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base;
            try (ServerSocket s = new ServerSocket(0)) {
                base = s.getLocalPort();
            }
            if (base > 60000) continue;
            boolean free = true;
            for (int p = base; p < base + 50 && free; p++) {
                try (ServerSocket s = new ServerSocket(p)) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) return base;
        }
        throw new IOException("no free block of 50 ports");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
