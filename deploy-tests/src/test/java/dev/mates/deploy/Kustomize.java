package dev.mates.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Renders a kustomization offline with {@code kustomize build} or {@code kubectl kustomize}, whichever is on PATH. */
final class Kustomize {
    private Kustomize() {
    }

    /** The command prefix, or null when neither tool is installed. */
    static List<String> command() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "kustomize"))) return List.of(Path.of(dir, "kustomize").toString(), "build");
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "kubectl"))) return List.of(Path.of(dir, "kubectl").toString(), "kustomize");
        }
        return null;
    }

    static String render(Path dir) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(command());
        cmd.add(dir.toString());
        Path err = Files.createTempFile("kustomize", ".err");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + ": no answer in 120 s");
        }
        String stderr = Files.readString(err);
        Files.deleteIfExists(err);
        if (p.exitValue() != 0) throw new AssertionError(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "):\n" + stderr);
        if (!stderr.isBlank()) throw new AssertionError(String.join(" ", cmd) + " warned (fix the kustomization):\n" + stderr);
        return new String(out, StandardCharsets.UTF_8);
    }
}
