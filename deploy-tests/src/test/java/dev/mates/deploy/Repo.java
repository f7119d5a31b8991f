package dev.mates.deploy;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The repository around this module, and the application's configuration keys read from its sources. */
final class Repo {
    private Repo() {
    }

    static final Path ROOT = findRoot();

    private static Path findRoot() {
        Path p = Path.of("").toAbsolutePath();
        for (Path q = p; q != null; q = q.getParent()) {
            if (Files.isDirectory(q.resolve("charts/mates")) && Files.isDirectory(q.resolve("k8s"))) return q;
        }
        throw new IllegalStateException("no repository root (with charts/mates and k8s/) above " + p);
    }

    /** A service's application.properties, production profile (no %profile. keys). */
    static Properties appProperties(String service) {
        Path f = ROOT.resolve("services").resolve(service).resolve("src/main/resources/application.properties");
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(f.toString(), e);
        }
        p.stringPropertyNames().stream().filter(k -> k.startsWith("%")).forEach(p::remove);
        return p;
    }

    /** A setting referenced in a property expression: {@code ${mates.tls.cert-file:/var/run/mates/tls/tls.crt}}. */
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{(mates\\.[A-Za-z0-9.-]+)(?::([^}]*))?}");

    /**
     * The TLS files a service reads when its profile {@code tls} is on: setting ({@code mates.tls.cert-file},
     * {@code key-file}, {@code ca-file}) → its default path, from the {@code ${mates.tls.*:default}} expressions of
     * its application.properties (a service that verifies no client certificate reads no CA file).
     */
    static Map<String, String> tlsFiles(String service) {
        return TLS_FILES.computeIfAbsent(service, Repo::readTlsFiles);
    }

    private static final Map<String, Map<String, String>> TLS_FILES = new java.util.concurrent.ConcurrentHashMap<>();

    private static Map<String, String> readTlsFiles(String service) {
        Path f = ROOT.resolve("services").resolve(service).resolve("src/main/resources/application.properties");
        Map<String, String> files = new TreeMap<>();
        try {
            Matcher m = REFERENCE.matcher(Files.readString(f));
            while (m.find()) {
                if (m.group(1).startsWith("mates.tls.") && m.group(1).endsWith("-file")) files.put(m.group(1), m.group(2));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(f.toString(), e);
        }
        return java.util.Collections.unmodifiableMap(files);
    }

    private static final Pattern CONFIG_PROPERTY = Pattern.compile("@ConfigProperty\\(\\s*name\\s*=\\s*\"([^\"]+)\"");

    /**
     * Every {@code mates.*} key the services read: {@code @ConfigProperty} names in services/, keys of their
     * application.properties, and the engine's system-property settings.
     */
    static Set<String> configKeys() {
        return CONFIG_KEYS;
    }

    /** Read once: every rendering checks every container against it. */
    private static final Set<String> CONFIG_KEYS = java.util.Collections.unmodifiableSet(readConfigKeys());

    private static Set<String> readConfigKeys() {
        Set<String> keys = new TreeSet<>();
        try (Stream<Path> files = Files.walk(ROOT.resolve("services"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String n = f.getFileName().toString();
                if (f.toString().contains("/src/main/") && n.endsWith(".java")) {
                    Matcher m = CONFIG_PROPERTY.matcher(Files.readString(f));
                    while (m.find()) keys.add(m.group(1));
                } else if (f.toString().contains("/src/main/resources/") && n.equals("application.properties")) {
                    Properties p = new Properties();
                    try (Reader r = Files.newBufferedReader(f)) {
                        p.load(r);
                    }
                    for (String k : p.stringPropertyNames()) keys.add(k.startsWith("%") ? k.substring(k.indexOf('.') + 1) : k);
                    // settings read only through a ${mates.x:default} expression (mates.tls.cert-file, ...)
                    Matcher m = REFERENCE.matcher(Files.readString(f));
                    while (m.find()) keys.add(m.group(1));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Read by the engine with System.getProperty / getenv (MiniLmEncoder), not through Quarkus config.
        keys.add("mates.encoder.device");
        return keys;
    }

    /** The environment variable Quarkus (SmallRye Config) maps to a key: upper case, every non-alphanumeric as _. */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(java.util.Locale.ROOT);
    }
}
