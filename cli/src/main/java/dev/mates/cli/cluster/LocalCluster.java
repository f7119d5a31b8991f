package dev.mates.cli.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
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
 * metrics (management interface) on its port + 30.
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
     * @param dataRoots local folders the trainer may read pool, reference and held-out files from (empty: s3:// only)
     * @param tls       mutual TLS on every gRPC port, with certificates from a throwaway CA in {@code <dir>/tls}
     */
    public record Options(Path dir, Path home, int portBase, int probers, int scorers, int scorerWorkers, String javaHeap,
                          List<Path> dataRoots, boolean tls) {
        public Options(Path dir, Path home, int portBase, int probers, int scorers, int scorerWorkers, String javaHeap) {
            this(dir, home, portBase, probers, scorers, scorerWorkers, javaHeap, List.of(), false);
        }
    }

    /** The server certificate of every service (127.0.0.1, localhost) and the client certificate of the trainer and the CLI. */
    public static final String TLS_DIR = "tls";

    private final Options o;
    private final List<Service> services = new ArrayList<>();
    private LocalRedis redis;
    private LocalS3 s3;
    private String secretKey;
    private final Thread hook = new Thread(this::stopQuietly, "mates-cluster-stop");

    /** Health and metrics (the Quarkus management interface) listen this far above a service's gRPC port. */
    static final int MANAGEMENT_OFFSET = 30;

    private record Service(String name, int port, Process process, Path log) {
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
        for (String s : List.of("trainer", "oracle-prober", "influence-model", "scorer")) {
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
        List<String> proberAddrs = new ArrayList<>();
        for (int i = 0; i < o.probers; i++) {
            int port = o.portBase + 1 + i;
            proberAddrs.add("127.0.0.1:" + port);
            launch("oracle-prober", i, port, Map.of());
        }
        launch("influence-model", 0, o.portBase + 5, Map.of());
        for (int i = 0; i < o.scorers; i++) {
            launch("scorer", i, o.portBase + 6 + i, Map.of("mates.scorer.workers", Integer.toString(o.scorerWorkers),
                    "mates.scorer.consumer", "local-scorer-" + i));
        }
        launch("trainer", 0, o.portBase, trainerProps());
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
        return m;
    }

    private void launch(String service, int index, int port, Map<String, String> extra) {
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
        cmd.add(serviceJar(o.home, service).toString());
        Path log = o.dir.resolve("logs").resolve(service + (index > 0 ? "-" + index : "") + ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            // Credentials by environment, never on the command line (where `ps` shows them to every user).
            pb.environment().put("MATES_OBJECT_STORE_ACCESS_KEY", ACCESS_KEY);
            pb.environment().put("MATES_OBJECT_STORE_SECRET_KEY", secretKey);
            Process p = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.to(log.toFile()))
                    .directory(o.dir.toFile()).start();
            services.add(new Service(service + (index > 0 ? "-" + index : ""), port, p, log));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + service + ": " + e.getMessage(), e);
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
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + s.managementPort() + "/q/health/ready").toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(5000);
                if (c.getResponseCode() == 200) return;
            } catch (IOException ignored) {
                // not listening yet
            }
            sleep(300);
        }
        throw new IllegalStateException(s.name + " not ready on port " + s.port + " after 180 s\n" + tail(s.log));
    }

    private void writeState() {
        ObjectNode st = new ObjectMapper().createObjectNode();
        st.put("pid", ProcessHandle.current().pid());
        st.put("trainer", trainerAddress());
        st.put("s3", s3.endpoint());
        st.put("redis", redis.uri());
        st.put("token_file", tokenFile().toString());
        st.put("tls", o.tls);
        if (o.tls) st.put("tls_client_dir", o.dir.resolve(TLS_DIR).resolve("client").toString());
        ObjectNode svc = st.putObject("services");
        for (Service s : services) svc.putObject(s.name).put("port", s.port).put("management_port", s.managementPort()).put("pid", s.process.pid()).put("log", s.log.toString());
        try {
            Files.writeString(o.dir.resolve("cluster.json"), st.toPrettyString(), StandardCharsets.UTF_8);
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

    /** Service name → process, e.g. to kill one in a test. */
    public Map<String, Process> processes() {
        Map<String, Process> m = new LinkedHashMap<>();
        for (Service s : services) m.put(s.name, s.process);
        return m;
    }

    /** Starts a service again after it died (e.g. the trainer, to resume its runs). */
    public void restart(String name) {
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
        Map<String, String> extra = name.equals("trainer") ? trainerProps() : Map.of();
        String service = name.replaceAll("-\\d+$", "");
        int index = name.matches(".*-\\d+$") ? Integer.parseInt(name.substring(name.lastIndexOf('-') + 1)) : 0;
        launch(service, index, old.port, extra);
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
            Files.deleteIfExists(o.dir.resolve("cluster.json"));
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
