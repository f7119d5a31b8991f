package dev.mates.engine.score;

import static org.junit.jupiter.api.Assertions.*;

import dev.mates.engine.data.Document;
import dev.mates.engine.influence.FitReport;
import dev.mates.engine.influence.InfluenceModels;
import dev.mates.engine.influence.InfluenceModel;
import dev.mates.engine.util.Listener;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchedScorerTest {
    @Test
    void batchedScoresEqualWholePoolPredictionInPoolOrder() {
        Random rnd = new Random(1);
        List<Document> docs = new ArrayList<>();
        double[] y = new double[401];
        for (int i = 0; i < y.length; i++) {
            StringBuilder sb = new StringBuilder();
            for (int w = rnd.nextInt(60) + 1; w > 0; w--) sb.append(rnd.nextBoolean() ? "good " : "word").append(w % 7).append(' ');
            docs.add(new Document("d" + i, sb.toString()));
            y[i] = sb.toString().split("good", -1).length + rnd.nextGaussian();
        }
        InfluenceModel model = InfluenceModels.create("ngram", 1);
        FitReport r = model.fit(docs, y, 1);
        assertTrue(r.valSpearman() > 0.3);
        List<String> summaries = new ArrayList<>();
        long[] lastDone = {0};
        Listener listener = new Listener() {
            @Override
            public void progress(String label, long done, long total, String unit, String detail) {
                assertEquals(401, total);
                assertTrue(done > lastDone[0] && done <= total, "progress moves forward: " + done);
                lastDone[0] = done;
            }

            @Override
            public void finished(String label, long done, String unit, double seconds, String summary) {
                summaries.add(label + ": " + summary);
            }
        };
        BatchedScorer scorer = new BatchedScorer(model, 16, listener);
        double[] batched = scorer.score(docs);
        assertArrayEquals(model.predict(docs), batched, 1e-12);
        assertTrue(scorer.seconds() > 0);
        assertEquals(401, lastDone[0]);
        assertEquals(List.of("scoring: scored 401 docs with ngram"), summaries);
        assertThrows(IllegalArgumentException.class, () -> new BatchedScorer(model, 0));
    }
}
