package dev.mates.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.store.FolderObjectStore;
import dev.mates.cli.report.ReportHtml;
import dev.mates.proto.v1.GetReportRequest;
import dev.mates.proto.v1.Report;
import dev.mates.proto.v1.RunEvent;
import dev.mates.proto.v1.RunState;
import dev.mates.proto.v1.RunStatus;
import dev.mates.proto.v1.StartRunRequest;
import dev.mates.proto.v1.TrainerGrpc;
import dev.mates.proto.v1.WatchRunRequest;
import dev.mates.proto.auth.Channels;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * {@code mates run --remote HOST:PORT}: submits the run to a trainer service, prints its progress as it goes, and
 * writes the same report.json / report.html as the embedded run into --out. Data paths are sent as absolute paths
 * (the trainer reads them; on a cluster use s3:// URIs of the deployment's bucket).
 */
final class RemoteRun {
    private RemoteRun() {}

    static int execute(String target, String runId, RunConfig cfg, List<String> pool, List<String> reference,
                       List<String> heldout, String selector, String baseline, Path out, Path tokenFile,
                       Channels.Tls tls) throws Exception {
        String id = runId != null ? runId : String.format(Locale.ROOT, "%s-seed%d-%s",
                pool.isEmpty() ? "demo" : "run", cfg.getLong("seed"), UUID.randomUUID().toString().substring(0, 6));
        StartRunRequest.Builder req = StartRunRequest.newBuilder().setRunId(id).putAllConfig(cfg.asMap())
                .setSelector(selector).setBaseline(baseline);
        pool.forEach(p -> req.addPool(absolute(p)));
        reference.forEach(p -> req.addReference(absolute(p)));
        heldout.forEach(p -> req.addHeldout(absolute(p)));
        ManagedChannel ch = RemoteAuth.channel(target, tls, RemoteAuth.token(target, tokenFile));
        if (!tls.enabled() && !RemoteAuth.loopback(target)) {
            System.err.println("warning: --remote " + target + " without TLS: the token and the data travel in plaintext; "
                    + "pass --tls-ca FILE (or set MATES_TLS_CA) if the trainer serves TLS");
        }
        long t0 = System.nanoTime();
        try {
            TrainerGrpc.TrainerBlockingStub trainer = TrainerGrpc.newBlockingStub(ch);
            RunStatus started;
            try {
                started = trainer.withDeadlineAfter(60, TimeUnit.SECONDS).startRun(req.build());
            } catch (StatusRuntimeException e) {
                throw userError(target, e);
            }
            System.err.println("submitted run " + started.getRunId() + " to " + target);
            RunStatus last = started;
            String lastProgress = "";
            Iterator<RunEvent> events = trainer.watchRun(WatchRunRequest.newBuilder().setRunId(id).build());
            while (events.hasNext()) {
                RunEvent e = events.next();
                switch (e.getEventCase()) {
                    case STATUS -> {
                        RunStatus s = e.getStatus();
                        if (!s.getPhase().equals(last.getPhase()) || s.getStage() != last.getStage() || !s.getArm().equals(last.getArm())) {
                            System.err.printf(Locale.ROOT, "[%s] %s%s stage %d, step %d%n", s.getState().name().replace("RUN_STATE_", "").toLowerCase(Locale.ROOT),
                                    s.getPhase(), s.getArm().isEmpty() ? "" : " (" + s.getArm() + ")", s.getStage(), s.getStep());
                        }
                        last = s;
                    }
                    case PROGRESS -> {
                        var p = e.getProgress();
                        String line = String.format(Locale.ROOT, "%-10s %d/%d %s | %s", p.getLabel(), p.getDone(), p.getTotal(), p.getUnit(), p.getDetail());
                        if (!line.equals(lastProgress) && (p.getDone() == p.getTotal() || p.getDone() % 10 == 0)) System.err.println(line);
                        lastProgress = line;
                    }
                    case LOG -> System.err.println(e.getLog());
                    default -> { }
                }
            }
            RunStatus end = trainer.getRun(dev.mates.proto.v1.GetRunRequest.newBuilder().setRunId(id).build());
            if (end.getState() != RunState.RUN_STATE_SUCCEEDED) {
                System.err.println("error: run " + id + " ended " + end.getState().name().replace("RUN_STATE_", "")
                        + (end.getError().isEmpty() ? "" : ": " + end.getError())
                        + "\n(resume it with the Trainer ResumeRun RPC, e.g. grpcurl -plaintext -H \"authorization: Bearer $MATES_TOKEN\" "
                        + "-import-path proto/src/main/proto -proto mates/v1/trainer.proto -d '{\"run_id\":\"" + id + "\"}' "
                        + target + " mates.v1.Trainer/ResumeRun)");
                return 1;
            }
            Report report = trainer.getReport(GetReportRequest.newBuilder().setRunId(id).build());
            ObjectNode r = (ObjectNode) new ObjectMapper().readTree(report.getJson());
            double seconds = (System.nanoTime() - t0) / 1e9;
            // The same place as an embedded run's report: --out/runs/{run}/report.{json,html}.
            FolderObjectStore local = new FolderObjectStore(out);
            local.put(StorageLayout.reportKey(id), r.toPrettyString().getBytes(StandardCharsets.UTF_8));
            local.put(StorageLayout.reportHtmlKey(id), ReportHtml.render(r).getBytes(StandardCharsets.UTF_8));
            System.out.println(RunCommand.summary(r, seconds, local.ref(StorageLayout.reportHtmlKey(id))) + " | run " + id
                    + " (" + report.getReportRef() + ")");
            return 0;
        } catch (StatusRuntimeException e) {
            throw userError(target, e);
        } finally {
            ch.shutdownNow();
        }
    }

    private static String absolute(String p) {
        return p.startsWith("s3://") ? p : Path.of(p).toAbsolutePath().normalize().toString();
    }

    private static IllegalArgumentException userError(String target, StatusRuntimeException e) {
        return switch (e.getStatus().getCode()) {
            case UNAVAILABLE -> new IllegalArgumentException("--remote " + target + ": no trainer answers there ("
                    + e.getStatus().getDescription() + "); start one with `mates cluster up`, or, if it serves TLS, "
                    + "pass --tls-ca (and --tls-cert/--tls-key for mutual TLS)");
            case UNAUTHENTICATED -> new IllegalArgumentException("--remote " + target + ": the trainer refused the token ("
                    + e.getStatus().getDescription() + "); set " + RemoteAuth.ENV + " or pass --token-file FILE with a client "
                    + "token of that deployment");
            case PERMISSION_DENIED -> new IllegalArgumentException("--remote " + target + ": not allowed: "
                    + e.getStatus().getDescription());
            default -> new IllegalArgumentException("--remote " + target + ": " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
        };
    }
}
