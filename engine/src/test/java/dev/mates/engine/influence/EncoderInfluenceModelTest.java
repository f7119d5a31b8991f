package dev.mates.engine.influence;

import static org.junit.jupiter.api.Assertions.*;

import dev.mates.engine.data.Document;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class EncoderInfluenceModelTest {
    private static final String[] ENGLISH = {
        "The committee approved the budget for the next year.", "Fishing quotas were debated in parliament today.",
        "Farmers asked for support after the long drought.", "The new railway line connects two large cities.",
        "Teachers want smaller classes and better schools.", "The report describes the state of the economy.",
        "Members voted in favour of the amendment.", "Clean water is a basic right for every citizen.",
        "The minister answered questions about energy prices.", "Small companies need simpler rules to grow."};

    static List<Document> corpus(int n, long seed, double[] labels) {
        Random rnd = new Random(seed);
        List<Document> docs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean english = rnd.nextBoolean();
            String text;
            if (english) {
                text = ENGLISH[rnd.nextInt(ENGLISH.length)] + " " + ENGLISH[rnd.nextInt(ENGLISH.length)];
            } else {
                StringBuilder sb = new StringBuilder();
                for (int w = 0; w < 12; w++) {
                    for (int c = 2 + rnd.nextInt(7); c > 0; c--) sb.append((char) ('a' + rnd.nextInt(26)));
                    sb.append(' ');
                }
                text = sb.toString();
            }
            labels[i] = (english ? -1 : 1) + 0.3 * rnd.nextGaussian(); // English helps
            docs.add(new Document("enc-" + seed + "-" + i, text));
        }
        return docs;
    }

    @Test
    void learnsEnglishVersusRandomLetters() {
        double[] y = new double[300]; // val 30: within-class label noise makes a 12-point Spearman a coin toss
        List<Document> docs = corpus(y.length, 1, y);
        try (EncoderInfluenceModel m = (EncoderInfluenceModel) InfluenceModels.create("minilm-int8", 1)) {
            FitReport r = m.fit(docs, y, 2);
            System.out.println("minilm-int8 fit: " + r);
            assertEquals("minilm-int8", r.backbone());
            assertTrue(r.bestEpoch() >= 1 && r.bestEpoch() <= 20);
            assertTrue(r.valSpearman() > 0.5, "val Spearman " + r.valSpearman());
            double[] p = m.predict(docs); // served from the embedding cache
            EncoderInfluenceModel restored = EncoderInfluenceModel.load(m.save());
            try (restored) {
                assertArrayEquals(p, restored.predict(docs), 1e-6);
            }
            assertTrue(m.flopsPerDoc(128) > 5e9 && m.flopsPerDoc(128) < 7e9);
        }
    }

    @Test
    void unknownBackboneNamesTheConfigKeyAndTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InfluenceModels.create("bert", 1));
        assertTrue(e.getMessage().contains("influence.backbone"), e.getMessage());
        assertTrue(e.getMessage().contains("ngram") && e.getMessage().contains("minilm-fp32"), e.getMessage());
        assertEquals("ngram", InfluenceModels.create("ngram", 1).backbone());
    }
}
