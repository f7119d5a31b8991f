package dev.mates.services.trainer;

import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.store.ObjectStore;
import dev.mates.services.common.Refs;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a run's data specs into local paths for the engine: {@code s3://bucket/prefix} specs are downloaded (every
 * object under the prefix) into the run's work folder; local paths are passed on as they are.
 */
@ApplicationScoped
public class InputFetcher {
    @Inject
    ObjectStore objects;
    @Inject
    S3ObjectStore s3;

    List<String> fetch(List<String> specs, Path dir, String role) throws IOException {
        List<String> out = new ArrayList<>();
        for (String spec : specs) {
            if (!spec.startsWith("s3://")) {
                out.add(spec);
                continue;
            }
            String key = Refs.key(role, spec, s3.bucket());
            List<String> keys = objects.list(key);
            if (keys.isEmpty()) throw new IllegalArgumentException(role + ": no object under " + spec);
            Path target = dir.resolve("inputs").resolve(role);
            for (String k : keys) {
                Path p = target.resolve(k);
                Files.createDirectories(p.getParent());
                Files.write(p, RunArtifacts.require(objects, k));
            }
            out.add(target.resolve(key).toString());
        }
        return out;
    }
}
