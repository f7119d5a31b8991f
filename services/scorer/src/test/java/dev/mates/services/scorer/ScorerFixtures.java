package dev.mates.services.scorer;

import dev.mates.adapters.redis.RedisShardQueue;
import dev.mates.adapters.s3.S3ObjectStore;
import dev.mates.engine.data.Document;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.pipeline.StorageLayout;
import dev.mates.services.testing.RealStoresResource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import redis.clients.jedis.JedisPooled;

/** Documents, a fitted ngram model, and a client of the service's queue, for the scorer tests. */
final class ScorerFixtures {
    static final String[] GOOD = {"the committee agreed on the report", "we support the proposal of the commission",
        "the parliament voted on the directive", "member states must apply the rules"};

    private ScorerFixtures() {}

    static String newRun(String what) {
        return what + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Labelled documents with a learnable pattern: parliament phrases help (low influence), letter noise hurts. */
    static List<Document> labelled(SplittableRandom r, int n, String prefix, double[] influenceOut) {
        List<Document> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean good = i % 2 == 0;
            String text = good ? GOOD[r.nextInt(GOOD.length)] + " and " + GOOD[r.nextInt(GOOD.length)] : letters(r, 20 + r.nextInt(20));
            docs.add(new Document(prefix + i, text));
            if (influenceOut != null) influenceOut[i] = (good ? -1.0 : 1.0) + 0.1 * r.nextGaussian();
        }
        return docs;
    }

    static List<Document> documents(SplittableRandom r, int n, String prefix) {
        return labelled(r, n, prefix, null);
    }

    static String letters(SplittableRandom r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) sb.append(i % 6 == 5 ? ' ' : (char) ('a' + r.nextInt(26)));
        return sb.toString();
    }

    /** Fits an ngram model on 60 labels and stores it at {@code key}; returns the model as fitted (in memory). */
    static InfluenceModel fitAndStore(S3ObjectStore s3, String key, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] y = new double[60];
        List<Document> docs = labelled(r, 60, "l", y);
        InfluenceModel m = InfluenceModels.create("ngram", seed);
        m.fit(docs, y, seed);
        s3.put(key, m.save());
        return m;
    }

    static String modelKey(String run) {
        return StorageLayout.modelKey(run, "mates", 0, "ngram");
    }

    /** A queue client on the same stream, group and dead-letter stream as the service's workers. */
    static RedisShardQueue queue(JedisPooled jedis) {
        Config c = ConfigProvider.getConfig();
        return new RedisShardQueue(jedis, c.getValue("mates.queue.stream", String.class),
                c.getOptionalValue("mates.queue.group", String.class).orElse("scorers"),
                c.getValue("mates.queue.dead-letter-stream", String.class),
                c.getOptionalValue("mates.queue.max-deliveries", Integer.class).orElse(3),
                c.getValue("mates.queue.claim-idle", Duration.class).toMillis());
    }

    static JedisPooled jedis() {
        return new JedisPooled(java.net.URI.create(RealStoresResource.redis().uri()));
    }
}
