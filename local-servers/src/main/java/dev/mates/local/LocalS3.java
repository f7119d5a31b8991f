package dev.mates.local;

import io.minio.MinioClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * An S3-compatible server on the loopback interface for one-machine clusters and tests: S3Proxy
 * ({@code org.gaul:s3proxy:4.1.0:jar-with-dependencies}) with its filesystem backend, run as a separate JVM
 * ({@code java -jar s3proxy.jar --properties ...}) because embedding it clashes with this classpath on Jackson.
 *
 * <p>Guarantees: {@link #start} returns only once the server accepts connections and answers a signed ListBuckets
 * (or throws, within 60 s, with the tail of its log). It listens on 127.0.0.1 only, requires the given credentials
 * (AWS signature v2 or v4, region {@value #REGION}), and stores buckets as folders under {@code dataDir/blobs}; its
 * properties file and log ({@code s3proxy.log}) sit in {@code dataDir}. The process is stopped by
 * {@link #stop}/{@link #close}, or by a shutdown hook when this JVM exits normally or on SIGTERM.
 *
 * <p>Where the jar comes from: see {@link #locateJar()}.
 */
public final class LocalS3 implements AutoCloseable {
    public static final String S3PROXY_VERSION = "4.1.0";
    /** Names the s3proxy jar (system property). */
    public static final String JAR_PROPERTY = "mates.s3proxy.jar";
    /** Names the s3proxy jar (environment variable). */
    public static final String JAR_ENV = "MATES_S3PROXY_JAR";
    public static final String REGION = "us-east-1";

    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final String GET_IT = "Get it with: ./mvnw dependency:get -Dartifact=org.gaul:s3proxy:"
            + S3PROXY_VERSION + ":jar:jar-with-dependencies (or build the local-servers module, which fetches it), or point -D"
            + JAR_PROPERTY + "=... or " + JAR_ENV + " at a copy.";

    private final ChildProcess process;
    private final int port;
    private final Path dataDir;
    private final String accessKey;
    private final String secretKey;

    private LocalS3(ChildProcess process, int port, Path dataDir, String accessKey, String secretKey) {
        this.process = process;
        this.port = port;
        this.dataDir = dataDir;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /**
     * Starts S3Proxy on 127.0.0.1.
     *
     * @param s3proxyJar the {@code jar-with-dependencies}; see {@link #locateJar()}
     * @param port       the port, or 0 for a free one
     * @param dataDir    holds the buckets ({@code blobs/}), the properties file and the log; created if missing
     */
    public static LocalS3 start(Path s3proxyJar, int port, Path dataDir, String accessKey, String secretKey) {
        if (s3proxyJar == null || !Files.isRegularFile(s3proxyJar)) {
            throw new IllegalStateException("S3Proxy jar not found at " + s3proxyJar + ". " + GET_IT);
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
        if (dataDir == null) throw new IllegalArgumentException("dataDir is required");
        if (accessKey == null || accessKey.isBlank() || secretKey == null || secretKey.isBlank()) {
            throw new IllegalArgumentException("access key and secret key must not be blank");
        }
        int attempts = port == 0 ? 3 : 1;
        IllegalStateException last = null;
        for (int i = 0; i < attempts; i++) {
            int p = port == 0 ? ChildProcess.freePort() : port;
            try {
                return startOn(s3proxyJar, p, dataDir.toAbsolutePath().normalize(), accessKey, secretKey);
            } catch (ChildProcess.PortTakenException e) {
                last = e;
            }
        }
        throw last;
    }

    private static LocalS3 startOn(Path jar, int port, Path dataDir, String accessKey, String secretKey) {
        Path blobs = dataDir.resolve("blobs");
        Path props = dataDir.resolve("s3proxy.properties");
        Path log = dataDir.resolve("s3proxy.log");
        try {
            Files.createDirectories(blobs);
            Properties p = new Properties();
            p.setProperty("s3proxy.endpoint", "http://127.0.0.1:" + port);
            p.setProperty("s3proxy.authorization", "aws-v2-or-v4");
            p.setProperty("s3proxy.identity", accessKey);
            p.setProperty("s3proxy.credential", secretKey);
            p.setProperty("jclouds.provider", "filesystem");
            p.setProperty("jclouds.identity", accessKey);
            p.setProperty("jclouds.credential", secretKey);
            p.setProperty("jclouds.filesystem.basedir", blobs.toString());
            // The file holds the secret key: owner-only.
            java.io.StringWriter text = new java.io.StringWriter();
            p.store(text, "written by mates LocalS3");
            PrivateFiles.write(props, text.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the S3Proxy dir " + dataDir + ": " + e.getMessage(), e);
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = List.of(java.toString(), "-Xmx512m", "-XX:+UseSerialGC",
                "-jar", jar.toAbsolutePath().toString(), "--properties", props.toString());
        ChildProcess child = ChildProcess.start("s3proxy-" + port, cmd, dataDir, log, Map.of(), null);
        LocalS3 s3 = new LocalS3(child, port, dataDir, accessKey, secretKey);
        try {
            s3.awaitReady();
            return s3;
        } catch (RuntimeException e) {
            child.stop(Duration.ofSeconds(2));
            throw e;
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        Exception lastError = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String tail = process.logTail(40);
                String msg = "S3Proxy exited (code " + process.process().exitValue() + ") before answering on port "
                        + port + "\n" + tail;
                if (tail.contains("Address already in use") || tail.contains("BindException")) {
                    throw new ChildProcess.PortTakenException(msg);
                }
                throw new IllegalStateException(msg);
            }
            if (ChildProcess.accepts(port)) {
                try (MinioClient c = MinioClient.builder().endpoint(endpoint()).credentials(accessKey, secretKey)
                        .region(REGION).build()) {
                    c.setTimeout(2_000, 5_000, 5_000);
                    c.listBuckets();
                    return;
                } catch (Exception e) {
                    lastError = e;
                }
            }
            ChildProcess.sleep(100);
        }
        throw new IllegalStateException("S3Proxy did not answer ListBuckets at " + endpoint() + " within "
                + START_TIMEOUT.toSeconds() + " s" + (lastError == null ? "" : " (last error: " + lastError + ")")
                + "\n" + process.logTail(40));
    }

    /** {@code http://127.0.0.1:PORT} */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** The region to give clients: {@value #REGION}. */
    public String region() {
        return REGION;
    }

    public long pid() {
        return process.pid();
    }

    public Path logFile() {
        return process.log();
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** Stops the server (SIGTERM, SIGKILL after 10 s) and waits until it has exited, so its port is free again. */
    public void stop() {
        process.stop(Duration.ofSeconds(10));
    }

    @Override
    public void close() {
        stop();
    }

    // ---------------------------------------------------------------------------------------------------------

    /**
     * Finds the S3Proxy jar, checking in order: system property {@value #JAR_PROPERTY}; environment variable
     * {@value #JAR_ENV}; the Maven local repository ({@code maven.repo.local} or {@code ~/.m2/repository}) at
     * {@code org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar}; {@code s3proxy.jar} (or
     * {@code s3proxy/s3proxy.jar}) next to the local-servers jar or classes folder; the copy the local-servers build
     * made under its {@code target/s3proxy/}. A property or variable that names a missing file is an error, not skipped.
     *
     * @throws IllegalStateException naming every place tried and how to get the jar
     */
    public static Path locateJar() {
        for (String[] c : new String[][] {{System.getProperty(JAR_PROPERTY), "system property " + JAR_PROPERTY},
                {System.getenv(JAR_ENV), "environment variable " + JAR_ENV}}) {
            if (c[0] != null && !c[0].isBlank()) {
                Path p = Path.of(c[0]);
                if (!Files.isRegularFile(p)) {
                    throw new IllegalStateException(c[1] + " names '" + c[0] + "', which does not exist. " + GET_IT);
                }
                return p;
            }
        }
        Set<Path> tried = new LinkedHashSet<>(candidates());
        for (Path p : tried) {
            if (Files.isRegularFile(p)) return p;
        }
        StringBuilder sb = new StringBuilder("S3Proxy jar (org.gaul:s3proxy:" + S3PROXY_VERSION
                + ":jar-with-dependencies) not found; tried:");
        for (Path p : tried) sb.append("\n  ").append(p);
        throw new IllegalStateException(sb.append("\n").append(GET_IT).toString());
    }

    private static List<Path> candidates() {
        List<Path> out = new ArrayList<>();
        String rel = "org/gaul/s3proxy/" + S3PROXY_VERSION + "/s3proxy-" + S3PROXY_VERSION + "-jar-with-dependencies.jar";
        String repo = System.getProperty("maven.repo.local");
        if (repo != null && !repo.isBlank()) out.add(Path.of(repo).resolve(rel));
        out.add(Path.of(System.getProperty("user.home"), ".m2", "repository").resolve(rel));
        Path here = codeLocation();
        if (here != null) {
            Path dir = here.getParent();
            if (dir != null) {
                out.add(dir.resolve("s3proxy.jar"));
                out.add(dir.resolve("s3proxy").resolve("s3proxy.jar"));
            }
        }
        String built = buildRecordedJar();
        if (built != null) out.add(Path.of(built));
        return out;
    }

    /** The local-servers jar, or its classes folder when run from a build. */
    private static Path codeLocation() {
        try {
            CodeSource cs = LocalS3.class.getProtectionDomain().getCodeSource();
            return cs == null || cs.getLocation() == null ? null : Path.of(cs.getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /** The path the local-servers build copied the jar to, recorded in a generated resource. */
    private static String buildRecordedJar() {
        try (InputStream in = LocalS3.class.getResourceAsStream("s3proxy-build.properties")) {
            if (in == null) return null;
            Properties p = new Properties();
            p.load(in);
            String jar = p.getProperty("jar");
            return jar == null || jar.isBlank() || jar.contains("${") ? null : jar;
        } catch (IOException e) {
            return null;
        }
    }
}
