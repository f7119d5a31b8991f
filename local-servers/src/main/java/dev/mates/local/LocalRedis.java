package dev.mates.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A real {@code redis-server} on the loopback interface, for one-machine clusters and tests.
 *
 * <p>The binary is, in this order: the file named by system property {@code mates.redis.server} or environment
 * variable {@code MATES_REDIS_SERVER}; {@code redis-server} on the {@code PATH}; else the Redis 6.2 binary bundled in
 * the {@code com.github.codemonstur:embedded-redis} jar on the classpath (Linux and macOS, x86-64 and arm64),
 * extracted once to {@code ${java.io.tmpdir}/mates-redis/}.
 *
 * <p>Guarantees: {@link #start} returns only once the server answers PING (or throws, within 20 s, with the tail of
 * its log); it listens on 127.0.0.1 only. Without a data dir nothing is persisted (no RDB, no AOF) and the scratch
 * dir is removed on {@link #stop}; with one, the server keeps an append-only file and its default RDB snapshots
 * there, and its log is {@code dataDir/redis.log}. The process is stopped by {@link #stop}/{@link #close}, or by a
 * shutdown hook when the JVM exits normally or on SIGTERM (a JVM killed with SIGKILL leaves it running).
 */
public final class LocalRedis implements AutoCloseable {
    /** Overrides the redis-server binary (system property). */
    public static final String BINARY_PROPERTY = "mates.redis.server";
    /** Overrides the redis-server binary (environment variable). */
    public static final String BINARY_ENV = "MATES_REDIS_SERVER";
    /** The memory cap of the Redis started here (redis-server's maxmemory syntax; default 1gb, policy noeviction). */
    public static final String MAXMEMORY_PROPERTY = "mates.redis.maxmemory";

    static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final ChildProcess process;
    private final int port;
    private final Path dataDir;
    private final Path scratchDir;

    private LocalRedis(ChildProcess process, int port, Path dataDir, Path scratchDir) {
        this.process = process;
        this.port = port;
        this.dataDir = dataDir;
        this.scratchDir = scratchDir;
    }

    /**
     * Starts redis-server on 127.0.0.1.
     *
     * @param port    the port, or 0 for a free one
     * @param dataDir where to persist data and write the log (created if missing); null for an in-memory server
     */
    public static LocalRedis start(int port, Path dataDir) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
        Path binary = locateBinary();
        int attempts = port == 0 ? 3 : 1;
        IllegalStateException last = null;
        for (int i = 0; i < attempts; i++) {
            int p = port == 0 ? ChildProcess.freePort() : port;
            try {
                return startOn(binary, p, dataDir);
            } catch (ChildProcess.PortTakenException e) {
                last = e; // a free port got taken between probing and binding: try another
            }
        }
        throw last;
    }

    private static LocalRedis startOn(Path binary, int port, Path dataDir) {
        Path scratch = null;
        Path dir;
        try {
            if (dataDir != null) {
                dir = Files.createDirectories(dataDir.toAbsolutePath().normalize());
            } else {
                dir = scratch = Files.createTempDirectory("mates-redis-" + port + "-");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the Redis dir: " + e.getMessage(), e);
        }
        List<String> cmd = new ArrayList<>(List.of(binary.toString(),
                "--port", Integer.toString(port), "--bind", "127.0.0.1", "--daemonize", "no",
                "--dir", dir.toString(), "--logfile", "",
                // Bounded like the chart's Redis: a full Redis refuses writes (the queue must not lose entries to
                // eviction) instead of growing until the machine swaps.
                "--maxmemory", System.getProperty(MAXMEMORY_PROPERTY, "1gb"), "--maxmemory-policy", "noeviction"));
        if (dataDir == null) {
            cmd.addAll(List.of("--save", "", "--appendonly", "no"));
        } else {
            cmd.addAll(List.of("--appendonly", "yes", "--appendfsync", "everysec"));
        }
        Path log = dir.resolve("redis.log");
        ChildProcess child = ChildProcess.start("redis-" + port, cmd, dir, log, Map.of(), scratch);
        LocalRedis redis = new LocalRedis(child, port, dataDir, scratch);
        try {
            redis.awaitPing();
            return redis;
        } catch (RuntimeException e) {
            redis.stopQuietly(false);
            throw e;
        }
    }

    private void awaitPing() {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                String tail = process.logTail(30);
                String msg = "redis-server exited (code " + process.process().exitValue() + ") before answering on port "
                        + port + "\n" + tail;
                if (tail.contains("Address already in use")) throw new ChildProcess.PortTakenException(msg);
                throw new IllegalStateException(msg);
            }
            if (answersPing(port)) return;
            ChildProcess.sleep(50);
        }
        throw new IllegalStateException("redis-server did not answer PING on 127.0.0.1:" + port + " within "
                + START_TIMEOUT.toSeconds() + " s\n" + process.logTail(30));
    }

    /** Sends an inline PING and expects +PONG. */
    static boolean answersPing(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[64];
            int n = in.read(buf);
            return n > 0 && new String(buf, 0, n, StandardCharsets.US_ASCII).startsWith("+PONG");
        } catch (IOException e) {
            return false;
        }
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:PORT} */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    /** The data dir given to {@link #start}, or null for an in-memory server. */
    public Path dataDir() {
        return dataDir;
    }

    /** The server's log file (inside the scratch dir, removed on stop, when there is no data dir). */
    public Path logFile() {
        return process.log();
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /**
     * Stops the server (SIGTERM: with a data dir it writes its files first; SIGKILL after 10 s) and waits until it
     * has exited, so its port is free again.
     */
    public void stop() {
        stopQuietly(true);
    }

    private void stopQuietly(boolean graceful) {
        process.stop(graceful ? Duration.ofSeconds(10) : Duration.ofSeconds(2));
        ChildProcess.deleteTree(scratchDir);
    }

    @Override
    public void close() {
        stop();
    }

    // ---------------------------------------------------------------------------------------------------------

    /** The redis-server binary {@link #start} uses (see the class comment for the order). */
    public static Path locateBinary() {
        String configured = System.getProperty(BINARY_PROPERTY);
        String source = "system property " + BINARY_PROPERTY;
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(BINARY_ENV);
            source = "environment variable " + BINARY_ENV;
        }
        if (configured != null && !configured.isBlank()) {
            Path p = Path.of(configured);
            if (!Files.isExecutable(p)) {
                throw new IllegalStateException(source + " names '" + configured + "', which is not an executable file");
            }
            return p;
        }
        Path onPath = findOnPath("redis-server");
        if (onPath != null) return onPath;
        return extractBundled();
    }

    static Path findOnPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
        }
        return null;
    }

    /** The name of the binary that embedded-redis bundles for this OS and CPU, or null if none fits. */
    static String bundledResource(String os, String arch) {
        String o = os.toLowerCase(Locale.ROOT);
        String a = arch.toLowerCase(Locale.ROOT);
        boolean x64 = a.equals("amd64") || a.equals("x86_64");
        boolean arm64 = a.equals("aarch64") || a.equals("arm64");
        if (o.contains("linux")) {
            if (x64) return "redis-server-6.2.6-v5-linux-amd64";
            if (arm64) return "redis-server-6.2.7-linux-arm64";
            if (a.equals("x86") || a.equals("i386") || a.equals("i686")) return "redis-server-6.2.7-linux-386";
        } else if (o.contains("mac") || o.contains("darwin")) {
            if (x64) return "redis-server-6.2.6-v5-darwin-amd64";
            if (arm64) return "redis-server-6.2.6-v5-darwin-arm64";
        }
        return null;
    }

    private static Path extractBundled() {
        String os = System.getProperty("os.name", "?");
        String arch = System.getProperty("os.arch", "?");
        String resource = bundledResource(os, arch);
        String howTo = "Install Redis 6.2 or later (e.g. 'apt-get install redis-server') so redis-server is on the PATH,"
                + " or set -D" + BINARY_PROPERTY + "=/path/to/redis-server or " + BINARY_ENV + ".";
        if (resource == null) {
            throw new IllegalStateException("no redis-server on the PATH and no bundled one for " + os + "/" + arch
                    + ". " + howTo);
        }
        ClassLoader cl = LocalRedis.class.getClassLoader();
        try (InputStream in = cl.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("no redis-server on the PATH, and the embedded-redis jar (which bundles "
                        + resource + ") is not on the classpath. " + howTo);
            }
            Path dir = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "mates-redis"));
            Path target = dir.resolve(resource);
            if (Files.isExecutable(target)) return target;
            Path tmp = Files.createTempFile(dir, resource + "-", ".part");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                if (!tmp.toFile().setExecutable(true, false)) {
                    throw new IOException("cannot make " + tmp + " executable");
                }
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the bundled redis-server (" + resource + "): "
                    + e.getMessage() + ". " + howTo, e);
        }
    }
}
