package dev.mates.cli;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.adapters.redis.RedisStateStore;
import dev.mates.adapters.redis.ShardTask;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.cli.cluster.LocalCluster;
import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.loadtest.LoadReport;
import dev.mates.loadtest.SyntheticText;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import redis.clients.jedis.JedisPooled;

/**
 * Bulk scoring through the Redis Stream on this machine: for each worker count N, a local cluster with N scorer
 * processes (one queue worker each, real redis-server and S3Proxy), a pool of M documents in shards, and the time
 * from the first shard enqueued to the last one done. Behind `mates bench-queue` and `mates loadtest --mode queue`.
 */
final class ScoringQueueBench {
    /** A drain that takes longer than this is a failure, not a measurement. */
    private static final long DRAIN_TIMEOUT_MS = 30 * 60_000L;

    private ScoringQueueBench() {}

    /**
     * @param workers   scorer process counts, the first is the ratios' base
     * @param docs      documents per measurement
     * @param shardSize documents per shard
     * @param docChars  characters per document (about)
     * @param repeats   measurements per worker count after one warm-up; the median is reported
     */
    record Settings(List<Integer> workers, int docs, int shardSize, int docChars, String backbone, int repeats, Path dir) {
        Settings {
            workers = List.copyOf(workers);
            if (workers.isEmpty() || workers.stream().anyMatch(n -> n < 1 || n > 14)) {
                throw new IllegalArgumentException("workers: scorer process counts of 1 to 14, got " + workers);
            }
            if (docs < 1 || shardSize < 1) throw new IllegalArgumentException("--docs and --shard-size: must be ≥ 1");
            if (repeats < 1) throw new IllegalArgumentException("--repeats: must be ≥ 1, got " + repeats);
            InfluenceModels.create(backbone, 1); // an unknown backbone fails here, before any cluster starts
        }
    }

    /** The queue measurement's options, shared by `bench-queue` and `loadtest --mode queue`. */
    static final class Options {
        @picocli.CommandLine.Option(names = {"--workers", "--scorers"}, split = ",", paramLabel = "N",
                description = "Scorer process counts, one queue worker each; the first is the ratios' base (default: 1,2,4).")
        List<Integer> workers = List.of(1, 2, 4);
        @picocli.CommandLine.Option(names = "--docs", description = "Documents per measurement (default: ${DEFAULT-VALUE}).")
        int docs = 4096;
        @picocli.CommandLine.Option(names = "--shard-size", description = "Documents per shard (default: ${DEFAULT-VALUE}).")
        int shardSize = 128;
        @picocli.CommandLine.Option(names = "--repeats", description = "Measurements per worker count after a warm-up; the median "
                + "is reported (default: ${DEFAULT-VALUE}).")
        int repeats = 3;

        Settings settings(int docChars, String backbone, Path dir) {
            return new Settings(workers, docs, shardSize, docChars, backbone, repeats, dir);
        }
    }

    static List<LoadReport.QueueResult> run(Settings s, PrintStream log) throws Exception {
        byte[] model = fittedModel(s.backbone, s.docChars);
        List<double[]> measured = new ArrayList<>();
        int pool = 0;
        for (int n : s.workers) {
            try (LocalCluster c = LocalCluster.start(new LocalCluster.Options(s.dir.resolve("scorers-" + n), ClusterCommand.home(),
                    LocalCluster.freePortBase(), 1, n, 1, "1500m").onlyScorers());
                 S3ObjectStore s3 = store(c.s3Endpoint(), c.secretKey());
                 JedisPooled jedis = RedisStateStore.connect(c.redisUri())) {
                RedisShardQueue q = new RedisShardQueue(jedis, "mates:score:shards", "scorers", "mates:score:dead", 3, 30_000);
                q.ensureGroup();
                s3.put("bench/model.bin", model);
                int shards = (s.docs + s.shardSize - 1) / s.shardSize;
                double[] seconds = new double[s.repeats + 1];
                for (int rep = 0; rep <= s.repeats; rep++) { // repetition 0 warms the workers (model load, JIT)
                    // Fresh documents every time: encoder backbones cache embeddings by text.
                    List<Document> docs = documents("q" + pool + "-", pool++, s.docs, s.docChars);
                    for (int k = 0; k < shards; k++) {
                        s3.put("bench/shards/" + rep + "/" + k + ".jsonl",
                                RunArtifacts.documentsToJsonl(docs.subList(k * s.shardSize, Math.min(s.docs, (k + 1) * s.shardSize))));
                    }
                    String doneSet = "bench:done:" + n + ":" + rep;
                    long t0 = System.nanoTime();
                    for (int k = 0; k < shards; k++) {
                        q.enqueue(new ShardTask("bench/" + rep + "/" + k, doneSet, "bench/shards/" + rep + "/" + k + ".jsonl",
                                "bench/model.bin", s.backbone, "bench/scores/" + rep + "/" + k + ".jsonl").toFields());
                    }
                    long deadline = System.currentTimeMillis() + DRAIN_TIMEOUT_MS;
                    while (q.doneCount(doneSet) < shards) {
                        if (System.currentTimeMillis() > deadline) {
                            throw new IllegalStateException(n + " scorer(s) did not drain " + shards + " shards in "
                                    + DRAIN_TIMEOUT_MS / 60_000 + " min; see the logs in " + s.dir.resolve("scorers-" + n).resolve("logs"));
                        }
                        Thread.sleep(20);
                    }
                    seconds[rep] = (System.nanoTime() - t0) / 1e9;
                    log.printf(Locale.ROOT, "%d scorer(s), %s: %d documents in %.2f s, %.0f docs/s%n", n,
                            rep == 0 ? "warm-up" : "run " + rep, s.docs, seconds[rep], s.docs / seconds[rep]);
                }
                double[] m = Arrays.copyOfRange(seconds, 1, seconds.length);
                Arrays.sort(m);
                measured.add(new double[] {n, m[m.length / 2]});
            }
        }
        List<LoadReport.QueueResult> out = new ArrayList<>();
        double base = s.docs / measured.get(0)[1];
        for (double[] m : measured) {
            double rate = s.docs / m[1];
            out.add(new LoadReport.QueueResult((int) m[0], s.docs, m[1], rate, rate / base));
        }
        return out;
    }

    /** The bucket of a local cluster (its S3 endpoint and secret). */
    static S3ObjectStore store(String endpoint, String secretKey) {
        return new S3ObjectStore(endpoint, LocalCluster.ACCESS_KEY, secretKey, LocalCluster.BUCKET, "us-east-1");
    }

    /** {@code n} documents of about {@code chars} characters, ids {@code prefix0…}, texts of their own. */
    static List<Document> documents(String prefix, long seed, int n, int chars) {
        List<Document> docs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) docs.add(new Document(prefix + i, SyntheticText.of(seed, i, chars)));
        return docs;
    }

    /**
     * An influence model of {@code backbone} fitted on 64 synthetic labelled documents: what a benchmark scores with
     * (its scores mean nothing; its cost per document is the real one).
     */
    static byte[] fittedModel(String backbone, int docChars) {
        List<Document> labelled = documents("label-", -1, 64, docChars);
        double[] labels = labelled.stream().mapToDouble(d -> d.text().length() % 7 - 3.0).toArray();
        InfluenceModel model = InfluenceModels.create(backbone, 1);
        model.fit(labelled, labels, 1);
        return model.save();
    }
}
