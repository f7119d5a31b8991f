package dev.mates.cli;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.adapters.redis.ShardTask;
import dev.mates.adapters.redis.RedisStateStore;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.cli.cluster.LocalCluster;
import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.pipeline.RunArtifacts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import redis.clients.jedis.JedisPooled;

/**
 * {@code mates bench-queue}: bulk scoring throughput through the Redis Stream with 1, 2, 4… scorer processes on
 * loopback (real redis-server, S3Proxy, scorer services), as a ratio to one process measured in the same run.
 */
@Command(name = "bench-queue", mixinStandardHelpOptions = true,
        description = "Scoring-queue throughput with several scorer processes on this machine (ratio to 1 process).")
public final class QueueBenchCommand implements Callable<Integer> {
    @Option(names = "--scorers", split = ",", description = "Scorer process counts (default: ${DEFAULT-VALUE}).")
    List<Integer> scorers = List.of(1, 2, 4);
    @Option(names = "--docs", description = "Documents to score per measurement (default: ${DEFAULT-VALUE}).")
    int docs = 4096;
    @Option(names = "--shard-size", description = "Documents per shard (default: ${DEFAULT-VALUE}).")
    int shardSize = 128;
    @Option(names = "--backbone", description = "ngram | minilm-int8 | minilm-fp32 (default: ${DEFAULT-VALUE}).")
    String backbone = "minilm-int8";
    @Option(names = "--repeats", description = "Measurements per process count; the median is reported (default: ${DEFAULT-VALUE}).")
    int repeats = 3;
    @Option(names = "--dir", description = "Work directory (default: a temp dir).")
    Path dir;

    @Override
    public Integer call() throws Exception {
        Path work = dir != null ? dir : Files.createTempDirectory("mates-bench-queue");
        // Fresh documents for every measurement: encoder backbones cache embeddings by text, so re-scoring the
        // same texts would measure the cache, not the model.
        List<List<Document>> pools = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(5);
        for (int rep = 0; rep < scorers.size() * (repeats + 1) + 1; rep++) pools.add(pool(r, "q" + rep + "-"));
        List<Document> labelled = pools.get(pools.size() - 1).subList(0, 64);
        double[] labels = labelled.stream().mapToDouble(d -> d.text().length() % 7 - 3.0).toArray();
        InfluenceModel model = InfluenceModels.create(backbone, 1);
        model.fit(labelled, labels, 1);
        byte[] modelBytes = model.save();

        Map<Integer, Double> median = new LinkedHashMap<>();
        int used = 0;
        for (int n : scorers) {
            Path d = work.resolve("scorers-" + n);
            try (LocalCluster c = LocalCluster.start(new LocalCluster.Options(d, ClusterCommand.home(), LocalCluster.freePortBase(), 1, n, 1, "1500m"));
                 S3ObjectStore s3 = new S3ObjectStore(c.s3Endpoint(), LocalCluster.ACCESS_KEY, c.secretKey(),
                         LocalCluster.BUCKET, "us-east-1");
                 JedisPooled jedis = RedisStateStore.connect(c.redisUri())) {
                RedisShardQueue q = new RedisShardQueue(jedis, "mates:score:shards", "scorers", "mates:score:dead", 3, 30_000);
                q.ensureGroup();
                s3.put("bench/model.bin", modelBytes);
                int shards = (docs + shardSize - 1) / shardSize;
                double[] rates = new double[repeats + 1];
                for (int rep = 0; rep <= repeats; rep++) { // repetition 0 warms the workers (model load, JIT)
                    List<Document> pool = pools.get(used++);
                    for (int k = 0; k < shards; k++) {
                        s3.put("bench/shards/" + rep + "/" + k + ".jsonl",
                                RunArtifacts.documentsToJsonl(pool.subList(k * shardSize, Math.min(docs, (k + 1) * shardSize))));
                    }
                    String doneSet = "bench:done:" + n + ":" + rep;
                    long t0 = System.nanoTime();
                    for (int k = 0; k < shards; k++) {
                        q.enqueue(new ShardTask("bench/" + rep + "/" + k, doneSet, "bench/shards/" + rep + "/" + k + ".jsonl",
                                "bench/model.bin", backbone, "bench/scores/" + rep + "/" + k + ".jsonl").toFields());
                    }
                    while (q.doneCount(doneSet) < shards) Thread.sleep(20);
                    double s = (System.nanoTime() - t0) / 1e9;
                    rates[rep] = docs / s;
                    System.err.printf(Locale.ROOT, "%d scorer(s), run %d: %.0f docs/s%n", n, rep, rates[rep]);
                }
                double[] measured = Arrays.copyOfRange(rates, 1, rates.length);
                Arrays.sort(measured);
                median.put(n, measured[measured.length / 2]);
            }
        }
        double base = median.get(scorers.get(0));
        System.out.printf(Locale.ROOT, "scoring queue, %s, %d docs in shards of %d, median of %d:%n", backbone, docs, shardSize, repeats);
        median.forEach((n, v) -> System.out.printf(Locale.ROOT, "  %d scorer process(es): %8.0f docs/s  (%.2fx of %d)%n",
                n, v, v / base, scorers.get(0)));
        return 0;
    }

    private List<Document> pool(SplittableRandom r, String prefix) {
        String[] words = "the of and to in a is that for it as was with be by on not he this are or his from at which".split(" ");
        List<Document> pool = new ArrayList<>();
        for (int i = 0; i < docs; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 30 + r.nextInt(60);
            for (int w = 0; w < n; w++) sb.append(words[r.nextInt(words.length)]).append(' ');
            pool.add(new Document(prefix + i, sb.toString().strip()));
        }
        return pool;
    }

}
