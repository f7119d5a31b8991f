package dev.mates.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Images are not built here (no Docker engine), so this checks what a build would need: every path a Dockerfile
 * COPYs exists in its build context (the service module) after {@code package}, the files land where the
 * entrypoint looks for them, and the image does not run as root. This module comes after services/ in the reactor.
 */
class DockerfileTest {
    private static final List<String> SERVICES = List.of("trainer", "oracle-prober", "influence-model", "scorer");
    private static final Pattern COPY = Pattern.compile("^COPY\\s+(.*)$", Pattern.CASE_INSENSITIVE);

    static List<Path> dockerfiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String s : SERVICES) {
            Path dir = Repo.ROOT.resolve("services").resolve(s).resolve("src/main/docker");
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(f -> f.getFileName().toString().startsWith("Dockerfile")).sorted().forEach(out::add);
            }
        }
        return out;
    }

    /** Instructions with line continuations joined and comments dropped. */
    static List<String> instructions(Path dockerfile) throws IOException {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile)) {
            String t = line.strip();
            if (t.startsWith("#") || t.isEmpty() && cur.isEmpty()) continue;
            if (t.endsWith("\\")) {
                cur.append(t, 0, t.length() - 1).append(' ');
                continue;
            }
            cur.append(t);
            out.add(cur.toString().strip());
            cur.setLength(0);
        }
        return out;
    }

    @Test
    void everyServiceHasAJvmDockerfileAndTheScorerAGpuOne() throws IOException {
        List<Path> files = dockerfiles();
        for (String s : SERVICES) {
            assertTrue(files.contains(Repo.ROOT.resolve("services/" + s + "/src/main/docker/Dockerfile.jvm")), s + " has src/main/docker/Dockerfile.jvm");
        }
        assertTrue(files.contains(Repo.ROOT.resolve("services/scorer/src/main/docker/Dockerfile.jvm-gpu")));
    }

    @Test
    void everyCopiedPathExistsAfterPackageAndTheEntrypointFindsItsJar() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path df : dockerfiles()) {
            Path context = df.getParent().getParent().getParent().getParent(); // services/<svc>
            String where = Repo.ROOT.relativize(df).toString();
            Set<String> image = new TreeSet<>(); // files the COPYs put into the image
            for (String ins : instructions(df)) {
                Matcher m = COPY.matcher(ins);
                if (!m.matches()) continue;
                List<String> args = new ArrayList<>();
                for (String a : m.group(1).trim().split("\\s+")) if (!a.startsWith("--")) args.add(a);
                if (m.group(1).contains("--from")) continue; // from another stage, not the context
                String dest = args.remove(args.size() - 1);
                for (String src : args) {
                    List<Path> matched = expand(context, src);
                    if (matched.isEmpty()) {
                        problems.add(where + ": COPY " + src + " matches nothing in " + Repo.ROOT.relativize(context)
                                + " (run ./mvnw -B package -DskipTests -pl services/" + context.getFileName() + " -am first)");
                    }
                    for (Path p : matched) {
                        if (Files.isDirectory(p)) {
                            try (Stream<Path> all = Files.walk(p)) {
                                long n = all.filter(Files::isRegularFile).peek(f -> image.add(dest + p.relativize(f))).count();
                                if (n == 0) problems.add(where + ": COPY " + src + " is an empty folder");
                            }
                        } else {
                            image.add(dest.endsWith("/") ? dest + p.getFileName() : dest);
                        }
                    }
                }
            }
            String text = String.join("\n", instructions(df));
            Matcher jar = Pattern.compile("(/deployments/[\\w.-]+\\.jar)").matcher(text);
            assertTrue(jar.find(), where + " names the jar it runs");
            do {
                if (!image.contains(jar.group(1))) problems.add(where + ": runs " + jar.group(1) + ", which no COPY puts there");
            } while (jar.find());
            for (String lib : List.of("/deployments/lib/main/", "/deployments/app/", "/deployments/quarkus/")) {
                if (image.stream().noneMatch(f -> f.startsWith(lib))) problems.add(where + ": nothing copied to " + lib);
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** The local redis-server / S3Proxy launchers (and the redis-server binaries they bundle) are for tests only. */
    @Test
    void imagesCarryNoLocalServersNorRedisServerBinaries() throws IOException {
        List<String> problems = new ArrayList<>();
        for (String s : SERVICES) {
            Path lib = Repo.ROOT.resolve("services").resolve(s).resolve("target/quarkus-app/lib");
            if (!Files.isDirectory(lib)) {
                problems.add(Repo.ROOT.relativize(lib) + " is missing (run ./mvnw -B package -DskipTests -pl services/"
                        + s + " -am first)");
                continue;
            }
            try (Stream<Path> all = Files.walk(lib)) {
                all.filter(Files::isRegularFile).map(f -> f.getFileName().toString())
                        .filter(n -> n.contains("mates-local-servers") || n.contains("embedded-redis"))
                        .forEach(n -> problems.add(Repo.ROOT.relativize(lib) + " holds " + n
                                + ", which only tests and the cli may depend on"));
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void imagesDoNotRunAsRoot() throws IOException {
        for (Path df : dockerfiles()) {
            List<String> users = instructions(df).stream().filter(i -> i.toUpperCase().startsWith("USER ")).toList();
            assertFalse(users.isEmpty(), df + " sets USER");
            String last = users.get(users.size() - 1).substring(5).strip();
            assertFalse(last.startsWith("root") || last.startsWith("0"), df + ": last USER is " + last);
            assertEquals("185", last.split(":")[0], df + ": the manifests run uid 185; the image must own its files as that user");
        }
    }

    /** The context paths a COPY source (with * or ? globs in its last segment) names. */
    static List<Path> expand(Path context, String src) throws IOException {
        String clean = src.endsWith("/") ? src.substring(0, src.length() - 1) : src;
        Path base = context.resolve(clean).normalize();
        if (!base.startsWith(context)) return List.of();
        if (!clean.contains("*") && !clean.contains("?")) return Files.exists(base) ? List.of(base) : List.of();
        Path parent = base.getParent();
        if (!Files.isDirectory(parent)) return List.of();
        PathMatcher pm = FileSystems.getDefault().getPathMatcher("glob:" + base.getFileName());
        try (Stream<Path> files = Files.list(parent)) {
            return files.filter(f -> pm.matches(f.getFileName())).sorted().toList();
        }
    }
}
