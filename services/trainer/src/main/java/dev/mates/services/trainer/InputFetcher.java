package dev.mates.services.trainer;

import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.store.ObjectStore;
import dev.mates.services.common.Refs;
import io.grpc.StatusRuntimeException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Where a run may read its data from, and turning its data specs into local paths for the engine (docs/security.md):
 * <ul>
 *   <li>{@code s3://bucket/prefix} in this deployment's bucket, outside the services' own {@code runs/} area: every
 *       object under the prefix is downloaded into the run's work folder, after its size was checked;</li>
 *   <li>a local absolute path only under one of {@code mates.trainer.data-roots} (empty by default), compared after
 *       {@link Path#toRealPath resolving} links and {@code ..}; a folder's files are checked one by one.</li>
 * </ul>
 * Anything else is refused with {@link RunErrors.Denied} before any file or object is opened.
 */
@ApplicationScoped
public class InputFetcher {
    @Inject
    ObjectStore objects;
    @Inject
    S3ObjectStore s3;
    @ConfigProperty(name = "mates.trainer.data-roots")
    Optional<List<Path>> dataRoots;
    /** Upper bound on the bytes one run may download (all its data specs together); 16 GiB, below the chart's 20 GiB work volume. */
    @ConfigProperty(name = "mates.trainer.max-input-bytes", defaultValue = "17179869184")
    long maxInputBytes;
    /** Upper bound on one object (it is read into memory whole): split larger files. */
    @ConfigProperty(name = "mates.trainer.max-object-bytes", defaultValue = "1073741824")
    long maxObjectBytes;

    /** Refuses a spec this trainer may not read; returns its S3 key for s3:// specs, null for local ones. */
    String check(String role, String spec) {
        if (spec.startsWith("s3://")) {
            String key;
            try {
                key = Refs.key(role, spec, s3.bucket());
            } catch (StatusRuntimeException e) {
                throw new IllegalArgumentException(e.getStatus().getDescription());
            }
            if (key.equals("runs") || key.startsWith("runs/")) {
                throw new RunErrors.Denied(role + ": '" + spec + "' is in the services' own area (runs/); put data under another prefix");
            }
            return key;
        }
        if (spec.contains("://")) {
            throw new IllegalArgumentException(role + ": '" + spec + "': only s3:// references or local paths are accepted");
        }
        checkLocal(role, spec);
        return null;
    }

    /** The checked file's or folder's real path: what the engine is given to read. */
    private Path checkLocal(String role, String spec) {
        List<Path> roots = dataRoots.orElse(List.of());
        if (roots.isEmpty()) {
            throw new RunErrors.Denied(role + ": '" + spec + "' is a local path, and this trainer reads local files only under "
                    + "mates.trainer.data-roots, which is empty; upload the data to s3://" + s3.bucket() + "/<prefix> or "
                    + "configure a data root");
        }
        if (spec.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{')) {
            // The engine expands such characters as a glob, which would name files this check never saw.
            throw new RunErrors.Denied(role + ": '" + spec + "': glob characters (* ? [ {) are not allowed in a local path "
                    + "of a service run; name a file or a folder");
        }
        Path p = Path.of(spec);
        if (!p.isAbsolute()) throw new RunErrors.Denied(role + ": '" + spec + "': local paths must be absolute");
        Path real;
        try {
            real = p.toRealPath();
        } catch (IOException e) {
            // Missing or unreadable: one answer inside and outside the roots, so it reveals nothing about outside files.
            throw outside(role, spec, roots);
        }
        if (!underRoot(real, roots) || real.toString().chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{')) {
            throw outside(role, spec, roots);
        }
        if (Files.isDirectory(real)) {
            try (Stream<Path> files = Files.walk(real)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (!underRoot(f.toRealPath(), roots)) {
                        throw new RunErrors.Denied(role + ": '" + f + "' in '" + spec + "' links outside mates.trainer.data-roots");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return real;
    }

    private static boolean underRoot(Path real, List<Path> roots) {
        for (Path r : roots) {
            try {
                if (real.startsWith(r.toRealPath())) return true;
            } catch (IOException e) {
                // a root that does not exist admits nothing
            }
        }
        return false;
    }

    private static RunErrors.Denied outside(String role, String spec, List<Path> roots) {
        // The same words as for a missing file: the answer tells nothing about what exists outside the roots.
        return new RunErrors.Denied(role + ": '" + spec + "' does not exist or is outside mates.trainer.data-roots " + roots);
    }

    /**
     * The specs as local paths for the engine: a local spec becomes its checked real path; an s3:// spec is downloaded
     * (the object itself, or the objects under it as a folder) after its sizes were checked against the run's budget.
     */
    List<String> fetch(List<String> specs, Path dir, String role, AtomicLong used) throws IOException {
        List<String> out = new ArrayList<>();
        for (String spec : specs) {
            String key = check(role, spec);
            if (key == null) {
                out.add(checkLocal(role, spec).toString());
                continue;
            }
            // A raw prefix listing would also match siblings ("data/pool" and "data/pool-old/…", "r" and "runs/…"):
            // keep the object itself and what lies under it as a folder.
            String folder = key.endsWith("/") ? key : key + "/";
            SortedMap<String, Long> sizes = new java.util.TreeMap<>();
            s3.sizes(key).forEach((k, v) -> {
                if (k.equals(key) || k.startsWith(folder)) sizes.put(k, v);
            });
            if (sizes.isEmpty()) throw new IllegalArgumentException(role + ": no object under " + spec);
            for (Map.Entry<String, Long> o : sizes.entrySet()) {
                if (o.getKey().startsWith("runs/")) throw new RunErrors.Denied(role + ": " + o.getKey() + " is in the services' own area (runs/)");
                if (o.getValue() > maxObjectBytes) {
                    throw new IllegalArgumentException(role + ": object " + o.getKey() + " is " + o.getValue() + " bytes, more than "
                            + "mates.trainer.max-object-bytes (" + maxObjectBytes + "); split it into smaller files");
                }
            }
            long total = sizes.values().stream().mapToLong(Long::longValue).sum();
            if (used.addAndGet(total) > maxInputBytes) {
                throw new IllegalArgumentException(role + ": " + spec + " holds " + total + " bytes in " + sizes.size()
                        + " objects; with the run's other data that is " + used.get() + " bytes, more than "
                        + "mates.trainer.max-input-bytes (" + maxInputBytes + ")");
            }
            Path target = dir.resolve("inputs").resolve(role).normalize();
            for (Map.Entry<String, Long> o : sizes.entrySet()) {
                Path p = target.resolve(o.getKey()).normalize();
                if (!p.startsWith(target)) {
                    throw new RunErrors.Denied(role + ": object key '" + o.getKey() + "' would be written outside the run's folder");
                }
                Files.createDirectories(p.getParent());
                Files.write(p, RunArtifacts.require(objects, o.getKey()));
            }
            out.add(target.resolve(key).toString());
        }
        return out;
    }

    /** Deletes a run's downloaded inputs (a resumed run downloads them again). */
    void cleanUp(Path runDir) {
        Path inputs = runDir.resolve("inputs");
        if (!Files.exists(inputs)) return;
        try (Stream<Path> all = Files.walk(inputs)) {
            for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
        } catch (IOException e) {
            io.quarkus.logging.Log.warnf("could not delete %s: %s", inputs, e.getMessage());
        }
    }
}
