package dev.mates.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.store.FolderObjectStore;
import dev.mates.cli.report.ReportHtml;
import dev.mates.proto.v1.Report;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * {@code mates run --remote HOST:PORT}: submits the run to a trainer service, prints its progress as it goes, and
 * writes the same report.json / report.html as the embedded run into --out. Data paths are sent as absolute paths
 * (the trainer reads them; on a cluster use s3:// URIs of the deployment's bucket).
 */
final class RemoteRun {
    private RemoteRun() {}

    static int execute(String target, String runId, RunConfig cfg, List<String> pool, List<String> reference,
                       List<String> heldout, String selector, String baseline, Path out, AuthOptions auth) throws Exception {
        String id = runId != null ? runId : String.format(Locale.ROOT, "%s-seed%d-%s",
                pool.isEmpty() ? "demo" : "run", cfg.getLong("seed"), UUID.randomUUID().toString().substring(0, 6));
        StartRunRequest.Builder req = StartRunRequest.newBuilder().setRunId(id).putAllConfig(cfg.asMap())
                .setSelector(selector).setBaseline(baseline);
        pool.forEach(p -> req.addPool(absolute(p)));
        reference.forEach(p -> req.addReference(absolute(p)));
        heldout.forEach(p -> req.addHeldout(absolute(p)));
        long t0 = System.nanoTime();
        try (RemoteTrainer trainer = new RemoteTrainer(target, auth)) {
            RunStatus started = trainer.start(req.build());
            System.err.println("submitted run " + started.getRunId() + " to " + target);
            RunStatus end = trainer.follow(id);
            if (end.getState() != RunState.RUN_STATE_SUCCEEDED) {
                System.err.println("error: run " + id + " ended " + RemoteTrainer.state(end)
                        + (end.getError().isEmpty() ? "" : ": " + end.getError())
                        + "\n(continue it from its last stage with: mates resume " + id + " --remote " + target + ")");
                return 1;
            }
            Report report = trainer.report(id);
            ObjectNode r = (ObjectNode) new ObjectMapper().readTree(report.getJson());
            double seconds = (System.nanoTime() - t0) / 1e9;
            // The same place as an embedded run's report: --out/runs/{run}/report.{json,html}.
            FolderObjectStore local = new FolderObjectStore(out);
            local.put(StorageLayout.reportKey(id), r.toPrettyString().getBytes(StandardCharsets.UTF_8));
            local.put(StorageLayout.reportHtmlKey(id), ReportHtml.render(r).getBytes(StandardCharsets.UTF_8));
            System.out.println(RunCommand.summary(r, seconds, local.ref(StorageLayout.reportHtmlKey(id))) + " | run " + id
                    + " (" + report.getReportRef() + ")");
            return 0;
        }
    }

    private static String absolute(String p) {
        return p.startsWith("s3://") ? p : Path.of(p).toAbsolutePath().normalize().toString();
    }
}
