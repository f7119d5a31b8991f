package dev.mates.services.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.engine.data.Document;
import dev.mates.engine.influence.FitReport;
import dev.mates.engine.influence.InfluenceModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The online batcher's bound and its handling of callers that went away, with a model that blocks on demand. */
class DynamicBatcherTest {
    /** Scores a document by its id's number; blocks every predict until {@code gate} opens; records what it scored. */
    static final class GatedModel implements InfluenceModel {
        final CountDownLatch gate = new CountDownLatch(1);
        final CountDownLatch entered = new CountDownLatch(1);
        final List<String> scored = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String backbone() {
            return "test";
        }

        @Override
        public FitReport fit(List<Document> docs, double[] influence, long seed) {
            throw new UnsupportedOperationException();
        }

        @Override
        public double[] predict(List<Document> docs) {
            entered.countDown();
            try {
                gate.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            docs.forEach(d -> scored.add(d.id()));
            return docs.stream().mapToDouble(d -> Double.parseDouble(d.id().substring(1))).toArray();
        }

        @Override
        public byte[] save() {
            return new byte[0];
        }

        @Override
        public double flopsPerDoc(int tokens) {
            return 0;
        }
    }

    static List<Document> docs(int from, int n) {
        List<Document> out = new ArrayList<>();
        for (int i = from; i < from + n; i++) out.add(new Document("d" + i, "text " + i));
        return out;
    }

    @Test
    void beyondTheBoundARequestIsRefusedAtOnceAndCancelledRequestsAreNotScored() throws Exception {
        GatedModel model = new GatedModel();
        try (DynamicBatcher b = new DynamicBatcher(4, 0, 10, n -> { })) {
            CompletableFuture<DynamicBatcher.Result> busy = b.submit("m", model, docs(0, 4)); // occupies the model
            assertTrue(model.entered.await(10, TimeUnit.SECONDS));
            CompletableFuture<DynamicBatcher.Result> waiting = b.submit("m", model, docs(100, 6));
            CompletableFuture<DynamicBatcher.Result> gone = b.submit("m", model, docs(200, 4));
            assertEquals(10, b.queuedDocuments());
            CompletableFuture<DynamicBatcher.Result> over = b.submit("m", model, docs(300, 1));
            ExecutionException e = assertThrows(ExecutionException.class, () -> over.get(1, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof DynamicBatcher.Overloaded, e.toString());
            assertTrue(e.getCause().getMessage().contains("mates.scorer.max-queued-documents=10"), e.getCause().getMessage());
            assertEquals(10, b.queuedDocuments(), "a refused request does not count");

            gone.cancel(false); // its caller's deadline passed
            model.gate.countDown();
            assertEquals(4, busy.get(10, TimeUnit.SECONDS).scores().length);
            double[] w = waiting.get(10, TimeUnit.SECONDS).scores();
            assertEquals(100.0, w[0]);
            assertEquals(105.0, w[5]);
            // Below the bound again: accepted. It queues behind the cancelled request, so once it is scored the
            // dispatcher has taken the cancelled one too.
            assertEquals(1, b.submit("m", model, docs(400, 1)).get(10, TimeUnit.SECONDS).scores().length);
            assertFalse(model.scored.contains("d200"), "a cancelled request is dropped, not scored: " + model.scored);
            assertTrue(model.scored.contains("d400"));
            assertEquals(0, b.queuedDocuments());
        }
    }

    @Test
    void aRequestLargerThanTheBoundIsStillServedWhenNothingWaits() throws Exception {
        GatedModel model = new GatedModel();
        model.gate.countDown();
        try (DynamicBatcher b = new DynamicBatcher(4, 0, 3, n -> { })) {
            assertEquals(5, b.submit("m", model, docs(0, 5)).get(10, TimeUnit.SECONDS).scores().length);
        }
    }
}
