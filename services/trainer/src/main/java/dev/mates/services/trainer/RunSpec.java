package dev.mates.services.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mates.proto.v1.StartRunRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/** What a run was started with, stored in its Redis hash so a restarted trainer can resume it. */
record RunSpec(String runId, Map<String, String> config, List<String> pool, List<String> reference, List<String> heldout,
               String selector, String baseline, boolean quick) {
    private static final ObjectMapper JSON = new ObjectMapper();

    static RunSpec of(String runId, StartRunRequest r) {
        return new RunSpec(runId, Map.copyOf(r.getConfigMap()), List.copyOf(r.getPoolList()), List.copyOf(r.getReferenceList()),
                List.copyOf(r.getHeldoutList()), r.getSelector().isEmpty() ? "mates" : r.getSelector(),
                r.getBaseline().isEmpty() ? "random" : r.getBaseline(), r.getQuick());
    }

    String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static RunSpec fromJson(String s) {
        try {
            return JSON.readValue(s, RunSpec.class);
        } catch (IOException e) {
            throw new IllegalStateException("stored run spec is corrupt: " + e.getMessage(), e);
        }
    }
}
