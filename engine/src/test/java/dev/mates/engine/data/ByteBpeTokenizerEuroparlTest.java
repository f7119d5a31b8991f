package dev.mates.engine.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** Training and encoding speed on ~5 MB of real multilingual text; bounds are loose so a busy machine passes. */
class ByteBpeTokenizerEuroparlTest {

    static List<String> europarl(long maxChars) throws IOException {
        List<String> out = new ArrayList<>();
        long total = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(
                DemoCorpus.class.getClassLoader().getResourceAsStream(DemoCorpus.RESOURCE)), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null && total < maxChars) {
                String[] f = line.split("\t", 3);
                if (f.length < 3) continue;
                String body = DemoCorpus.normalize(f[2]);
                out.add(body);
                total += body.length();
            }
        }
        return out;
    }

    @Test
    void roundTripsAndCompressesRealEuroparl() throws IOException {
        List<String> texts = europarl(5_000_000);
        long bytes = texts.stream().mapToLong(s -> s.getBytes(StandardCharsets.UTF_8).length).sum();
        ByteBpeTokenizer tok = ByteBpeTokenizer.train(texts, 4096);
        assertEquals(4096, tok.vocabSize());

        long tokens = 0;
        for (String s : texts) {
            int[] ids = tok.encode(s);
            tokens += ids.length;
            assertEquals(s, tok.decode(ids));
        }
        assertTrue(bytes / (double) tokens > 2.5, "compression " + bytes / (double) tokens + " bytes/token");
    }
}
