package dev.mates.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mates.cli.report.ReportHtml;
import dev.mates.engine.pipeline.EmbeddedRoles;
import dev.mates.engine.pipeline.MatesRun;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.engine.report.RunReport;
import dev.mates.engine.select.Selectors;
import dev.mates.engine.store.FolderObjectStore;
import dev.mates.engine.store.InMemoryStateStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code mates run}: the whole MATES loop in this process, with a random-selection baseline arm. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Pretrain with model-aware data selection and compare with random selection.",
            "With no data flags, runs the demo (Europarl + generated web noise)."})
public final class RunCommand implements Callable<Integer> {
    @Option(names = "--pool", paramLabel = "PATH", description = "Candidate pool: JSONL(.gz/.zst) files, directories or globs (repeatable).")
    List<String> pool = new ArrayList<>();

    @Option(names = "--reference", paramLabel = "PATH", description = "Reference set D_ref (plain \"text\" or LAMBADA-style \"context\"/\"target\").")
    List<String> reference = new ArrayList<>();

    @Option(names = "--heldout", paramLabel = "PATH", description = "Held-out set (default: the last 5%% of the pool).")
    List<String> heldout = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("mates-out");

    @Option(names = "--config", paramLabel = "FILE", description = "key = value settings (docs/configuration.md).")
    Path config;

    @Option(names = "--seed", paramLabel = "N", description = "Seed for data order, init, probes and selection.")
    Long seed;

    @Option(names = "--selector", description = "mates | random | topk (default: ${DEFAULT-VALUE}).")
    String selector = "mates";

    @Option(names = "--baseline", description = "random | none: a second arm with the same budget and seed (default: ${DEFAULT-VALUE}).")
    String baseline = "random";

    @Option(names = "--baseline-budget", paramLabel = "flops|tokens",
            description = "Compare at equal total FLOPs (the baseline trains extra steps worth the selection overhead) or at equal training tokens (default: the config's mates.baseline_budget, flops).")
    String baselineBudget;

    @Option(names = "--quick", description = "Smoke profile: a few minutes on a laptop.")
    boolean quick;

    @Option(names = "--remote", paramLabel = "HOST:PORT", description = "Submit the run to a trainer service (see `mates cluster up`) and watch it.")
    String remote;

    @Mixin
    AuthOptions auth = new AuthOptions();

    @Option(names = "--run-id", paramLabel = "ID", description = "Run id for --remote (default: generated).")
    String runId;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one config key (repeatable).")
    Map<String, String> set = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
        Selectors.check(selector, baseline);
        Map<String, String> overrides = new LinkedHashMap<>(set);
        if (seed != null) overrides.put("seed", Long.toString(seed));
        if (baselineBudget != null) overrides.put("mates.baseline_budget", baselineBudget);
        RunConfig cfg = RunConfig.load(config, quick, overrides);
        if (remote != null) return RemoteRun.execute(remote, runId, cfg, pool, reference, heldout, selector, baseline, out, auth);
        if (runId != null) throw new IllegalArgumentException("--run-id: only with --remote");
        if (auth.tokenFile != null) throw new IllegalArgumentException("--token-file: only with --remote");
        if (auth.given()) throw new IllegalArgumentException("--tls-*: only with --remote");
        boolean demo = pool.isEmpty() && reference.isEmpty() && heldout.isEmpty();
        String run = String.format(Locale.ROOT, "%s-seed%d", demo ? "demo" : "run", cfg.getLong("seed"));
        ConsoleListener console = ConsoleListener.stderr();
        FolderObjectStore objects = new FolderObjectStore(out);
        RunReport report = MatesRun.execute(new MatesRun.Request(run, cfg, pool, reference, heldout, selector, baseline, out, false),
                objects, new InMemoryStateStore(), EmbeddedRoles.factory(cfg, console), console);
        JsonNode json = new ObjectMapper().readTree(report.toJson());
        objects.put(StorageLayout.reportHtmlKey(run), ReportHtml.render(json).getBytes(StandardCharsets.UTF_8));
        System.out.println(summary(json, report.wallSeconds(), objects.ref(StorageLayout.reportHtmlKey(run))));
        return 0;
    }

    static String summary(JsonNode r, double seconds, String reportRef) {
        StringBuilder s = new StringBuilder("mates run done in ").append(String.format(Locale.ROOT, "%.0fs", seconds));
        r.path("arms").fields().forEachRemaining(e -> s.append(String.format(Locale.ROOT, " | %s: reference %.4f, held-out %.4f",
                e.getKey(), e.getValue().path("final_reference_loss").asDouble(), e.getValue().path("final_heldout_loss").asDouble(Double.NaN))));
        s.append(" (at equal ").append(r.path("baseline_budget").asText("tokens").equals("flops") ? "total FLOPs" : "tokens")
                .append(")");
        long selectorTokens = r.path("arms").elements().hasNext() ? r.path("arms").elements().next().path("tokens").asLong() : 0;
        r.path("arms").fields().forEachRemaining(e -> {
            if (e.getValue().path("budget_steps").asInt() == 0) return;
            JsonNode atTokens = null;
            for (JsonNode p : e.getValue().path("curve")) if (p.path("tokens").asLong() <= selectorTokens) atTokens = p;
            if (atTokens != null) {
                s.append(String.format(Locale.ROOT, " | %s at equal tokens: reference %.4f", e.getKey(),
                        atTokens.path("reference_loss").asDouble()));
            }
        });
        for (String e : new String[] {"token_efficiency", "compute_efficiency"}) {
            JsonNode v = r.path(e);
            s.append(" | ").append(e.replace('_', ' ')).append(' ')
                    .append(v.isNull() || v.isMissingNode() ? "not reached" : String.format(Locale.ROOT, "%.2f", v.asDouble()));
        }
        s.append(" | report: ").append(reportRef);
        return s.toString();
    }
}
