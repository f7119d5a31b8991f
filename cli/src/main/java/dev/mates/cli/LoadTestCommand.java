package dev.mates.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.cli.cluster.LocalCluster;
import dev.mates.cli.report.LoadTestHtml;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.loadtest.LoadReport;
import dev.mates.loadtest.Loopback;
import dev.mates.loadtest.RateResult;
import dev.mates.loadtest.RateSweep;
import dev.mates.loadtest.ScoreClient;
import dev.mates.proto.auth.Channels;
import dev.mates.proto.auth.TokenFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mates loadtest}: the online {@code Score} RPC under open-loop load at fixed rates (latency percentiles,
 * achieved throughput, errors, batch sizes per rate), or the scoring queue's throughput per worker count; writes
 * loadtest.json and loadtest.html. Only ever sends to this machine.
 */
@Command(name = "loadtest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Load-test the scorer on this machine (loopback only) and write loadtest.json and loadtest.html.",
            "online (default): open-loop Score requests at each --rates value against --target HOST:PORT, or against a "
                + "scorer of its own with --local; queue: --workers scorer processes draining --docs documents from the Redis Stream."})
public final class LoadTestCommand implements Callable<Integer> {
    @Option(names = "--mode", description = "online | queue (default: ${DEFAULT-VALUE}).")
    String mode = "online";

    @Option(names = "--target", paramLabel = "HOST:PORT", description = "The scorer's gRPC address; must be loopback "
            + "(localhost, 127.0.0.0/8, ::1). Needs --model-ref.")
    String target;

    @Option(names = "--local", description = "Start a scorer of its own (with redis-server and S3Proxy, a fitted model of "
            + "--backbone in its bucket, tokens on) for each --max-batch value, and stop it afterwards.")
    boolean local;

    @Option(names = "--rates", split = ",", paramLabel = "R", description = "Offered requests/s, in order (default: 10,50,100,200).")
    List<Double> rates = List.of(10.0, 50.0, 100.0, 200.0);

    @Option(names = "--duration", converter = DurationConverter.class, description = "Measured window per rate, e.g. 30s, 2m (default: 30s).")
    Duration duration = Duration.ofSeconds(30);

    @Option(names = "--warmup", converter = DurationConverter.class, description = "Load before each window, not counted (default: 5s).")
    Duration warmup = Duration.ofSeconds(5);

    @Option(names = "--docs-per-request", description = "Documents in each Score request (default: ${DEFAULT-VALUE}).")
    int docsPerRequest = 1;

    @Option(names = "--doc-chars", description = "Characters per document, about (default: ${DEFAULT-VALUE}).")
    int docChars = 400;

    @Option(names = "--deadline", converter = DurationConverter.class, description = "Deadline of every call (default: 5s).")
    Duration deadline = Duration.ofSeconds(5);

    @Option(names = "--max-in-flight", description = "Outstanding requests at most; one due beyond is dropped, not queued (default: ${DEFAULT-VALUE}).")
    int maxInFlight = 10_000;

    @Option(names = "--connections", description = "HTTP/2 connections the requests are spread over (default: ${DEFAULT-VALUE}).")
    int connections = 4;

    @Option(names = "--model-ref", paramLabel = "REF", description = "With --target: the model object (runs/<run>/…/influence-model/<backbone>.bin "
            + "of the deployment's bucket; default, for a scorer of the local cluster in .mates-cluster: a model of --backbone "
            + "this command fits and puts at " + LOCAL_MODEL_KEY + "<backbone>.bin).")
    String modelRef;

    @Option(names = "--backbone", description = "ngram | minilm-int8 | minilm-fp32: the model's (default: ${DEFAULT-VALUE}).")
    String backbone = "minilm-int8";

    @Option(names = "--metrics", paramLabel = "HOST:PORT|none", description = "The scorer's management port, for its batch-size "
            + "metric before and after each rate (default: the target's port + 30, as in the local cluster; none: skip).")
    String metrics;

    @Option(names = "--slo-p99", converter = DurationConverter.class, description = "The p99 bound of the 'throughput with p99 ≤' figure (default: 100ms).")
    Duration sloP99 = Duration.ofMillis(100);

    @Option(names = "--max-batch", split = ",", paramLabel = "N", description = "With --local: one series per value of the "
            + "scorer's mates.scorer.max-batch, e.g. 1,64 for dynamic batching against batch size 1 (default: the scorer's default).")
    List<Integer> maxBatch = new ArrayList<>();

    @Option(names = "--scorer-set", paramLabel = "KEY=VALUE", description = "With --local: a system property of the scorer "
            + "(repeatable), e.g. mates.scorer.max-wait=2ms.")
    Map<String, String> scorerSet = new LinkedHashMap<>();

    @Mixin
    ScoringQueueBench.Options queue = new ScoringQueueBench.Options();

    @Option(names = "--seed", description = "Seed of the documents' text (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--out", paramLabel = "DIR", description = "Where loadtest.json and loadtest.html go (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("mates-out", "loadtest");

    @Mixin
    AuthOptions auth = new AuthOptions();

    /** The model a --local scorer serves, under a run's prefix as Score requires. */
    static final String LOCAL_MODEL_KEY = "runs/loadtest/influence-model/";

    @Override
    public Integer call() throws Exception {
        InfluenceModels.create(backbone, 1); // an unknown backbone fails before anything starts
        LoadReport report = switch (mode) {
            case "online" -> online();
            case "queue" -> queue();
            default -> throw new IllegalArgumentException("--mode: online or queue, got '" + mode + "'");
        };
        Files.createDirectories(out);
        ObjectNode json = report.toJson();
        Path jsonFile = out.resolve("loadtest.json");
        Path htmlFile = out.resolve("loadtest.html");
        Files.writeString(jsonFile, json.toPrettyString(), StandardCharsets.UTF_8);
        Files.writeString(htmlFile, LoadTestHtml.render(report), StandardCharsets.UTF_8);
        System.out.print(report.table());
        System.out.println("loadtest: " + jsonFile.toAbsolutePath() + " | " + htmlFile.toAbsolutePath());
        return 0;
    }

    private LoadReport online() throws Exception {
        if ((target == null) == !local) throw new IllegalArgumentException("--mode online: give --target HOST:PORT or --local");
        if (local && auth.given()) throw new IllegalArgumentException("--token-file, --tls-*: not with --local (its scorer's token is used)");
        if (local && modelRef != null) throw new IllegalArgumentException("--model-ref: not with --local (it fits its own model)");
        if (!local && (!maxBatch.isEmpty() || !scorerSet.isEmpty())) {
            throw new IllegalArgumentException("--max-batch, --scorer-set: only with --local (a --target scorer runs as deployed)");
        }
        Loopback.Target checked = local ? null : Loopback.check("--target", target);
        if (!local && modelRef == null) modelRef = localClusterModel();
        if (metrics != null && !metrics.equals("none")) Loopback.check("--metrics", metrics);
        RateSweep.Settings sweep = new RateSweep.Settings(rates, warmup, duration, maxInFlight, deadline.plusSeconds(5));
        ScoreClient.Requests requests = new ScoreClient.Requests(local ? LOCAL_MODEL_KEY + backbone + ".bin" : modelRef, backbone,
                docsPerRequest, docChars, deadline, seed);
        Map<String, Object> settings = settings();
        settings.put("docs_per_request", docsPerRequest);
        settings.put("doc_chars", docChars);
        settings.put("deadline_ms", deadline.toMillis());
        settings.put("max_in_flight", maxInFlight);
        settings.put("connections", connections);
        settings.put("rates", rates);
        settings.put("warmup_s", warmup.toMillis() / 1000.0);
        settings.put("duration_s", duration.toMillis() / 1000.0);
        settings.put("model_ref", requests.modelRef());
        System.err.printf(Locale.ROOT, "%d rate(s) × (%.1f s warm-up + %.1f s) per series%n", rates.size(),
                warmup.toMillis() / 1000.0, duration.toMillis() / 1000.0);
        if (!local) {
            Supplier<String> token = RemoteAuth.token(target, auth.tokenFile);
            LoadReport.Series s = new LoadReport.Series("as deployed", Map.of(), sweep(checked, auth.tls(target), token, requests, sweep));
            return new LoadReport("online", checked.grpcTarget(), settings, sloP99.toNanos() / 1e6, List.of(s), List.of());
        }
        return new LoadReport("online", "local", settings, sloP99.toNanos() / 1e6, localSeries(requests, sweep), List.of());
    }

    /** One series per --max-batch value, each against a scorer of its own. */
    private List<LoadReport.Series> localSeries(ScoreClient.Requests requests, RateSweep.Settings sweep) throws Exception {
        List<LoadReport.Series> series = new ArrayList<>();
        byte[] model = ScoringQueueBench.fittedModel(backbone, docChars);
        List<Integer> batches = maxBatch.isEmpty() ? Collections.singletonList(null) : maxBatch;
        Path work = Files.createTempDirectory("mates-loadtest");
        for (Integer b : batches) {
            Map<String, String> props = new LinkedHashMap<>(scorerSet);
            if (b != null) props.put("mates.scorer.max-batch", Integer.toString(b));
            String label = props.isEmpty() ? "default" : String.join(" ", props.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
            System.err.println("starting a scorer (" + label + ") with redis-server and S3Proxy …");
            // Online scoring only: no queue workers competing for the CPU.
            LocalCluster.Options o = new LocalCluster.Options(work.resolve("series-" + series.size()), ClusterCommand.home(),
                    LocalCluster.freePortBase(), 1, 1, 0, "1500m").onlyScorers().withScorerProperties(props);
            try (LocalCluster c = LocalCluster.start(o); S3ObjectStore s3 = ScoringQueueBench.store(c.s3Endpoint(), c.secretKey())) {
                s3.put(requests.modelRef(), model);
                Loopback.Target t = Loopback.check("--target", c.scorerAddresses().get(0));
                TokenFile token = TokenFile.open("the local scorer's token", c.tokenFile());
                series.add(new LoadReport.Series(label, props, sweep(t, c.clientTls(), token::token, requests, sweep)));
            }
        }
        deleteTree(work); // kept when a cluster failed: its logs say why
        return series;
    }

    /**
     * For a scorer of the local cluster in .mates-cluster: fits a model of --backbone and puts it into that cluster's
     * bucket, returning its key.
     */
    private String localClusterModel() throws Exception {
        JsonNode st = RemoteAuth.localClusterOf(target);
        if (st == null) {
            throw new IllegalArgumentException("--target " + target + ": needs --model-ref REF (a fitted model of --backbone in the "
                    + "scorer's bucket); only a scorer of the local cluster in .mates-cluster gets one by itself");
        }
        String secret = TokenFile.open("the local cluster's S3 secret", RemoteAuth.LOCAL_CLUSTER.resolve(LocalCluster.S3_SECRET_FILE)).token();
        String key = LOCAL_MODEL_KEY + backbone + ".bin";
        try (S3ObjectStore s3 = ScoringQueueBench.store(st.path("s3").asText(), secret)) {
            s3.put(key, ScoringQueueBench.fittedModel(backbone, docChars));
        }
        System.err.println("put a fitted " + backbone + " model into the local cluster's bucket: " + key);
        return key;
    }

    private List<RateResult> sweep(Loopback.Target t, Channels.Tls tls, Supplier<String> token, ScoreClient.Requests requests,
                                   RateSweep.Settings sweep) throws InterruptedException {
        Optional<Loopback.Target> m = metrics != null && metrics.equals("none") ? Optional.empty()
                : Optional.of(metrics != null ? Loopback.check("--metrics", metrics)
                        : new Loopback.Target(t.address(), t.port() + LocalCluster.MANAGEMENT_OFFSET));
        try (ScoreClient client = new ScoreClient(t, tls, token, connections, requests)) {
            client.check(Duration.ofSeconds(120));
            return RateSweep.run(client, sweep, m, System.err);
        }
    }

    private LoadReport queue() throws Exception {
        if (target != null || modelRef != null || auth.given()) {
            throw new IllegalArgumentException("--mode queue starts its own scorers on this machine: --target, --model-ref, "
                    + "--token-file and --tls-* are for --mode online");
        }
        Path work = Files.createTempDirectory("mates-loadtest-queue");
        List<LoadReport.QueueResult> q = ScoringQueueBench.run(queue.settings(docChars, backbone, work), System.err);
        deleteTree(work);
        Map<String, Object> settings = settings();
        settings.put("workers", queue.workers);
        settings.put("docs", queue.docs);
        settings.put("shard_size", queue.shardSize);
        settings.put("doc_chars", docChars);
        settings.put("repeats", queue.repeats);
        return new LoadReport("queue", "local", settings, sloP99.toNanos() / 1e6, List.of(), q);
    }

    private Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("backbone", backbone);
        s.put("seed", seed);
        s.put("local", local || mode.equals("queue"));
        return s;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** 30s, 500ms, 2m, 1.5s; a bare number is seconds. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern P = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m)?");

        @Override
        public Duration convert(String v) {
            Matcher m = P.matcher(v.strip());
            if (!m.matches()) throw new IllegalArgumentException("'" + v + "' is not a duration (e.g. 500ms, 30s, 2m)");
            double n = Double.parseDouble(m.group(1));
            double ms = switch (m.group(2) == null ? "s" : m.group(2)) {
                case "ms" -> n;
                case "m" -> n * 60_000;
                default -> n * 1000;
            };
            return Duration.ofNanos(Math.round(ms * 1e6));
        }
    }
}
