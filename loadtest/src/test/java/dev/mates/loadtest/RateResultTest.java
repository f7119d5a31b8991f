package dev.mates.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The figures of one rate from a hand-made recording. */
class RateResultTest {
    @Test
    void figuresByHand() {
        // 10 requests/s, 0.2 s warm-up (requests 0, 1), 0.5 s window (requests 2…6, due at 200…600 ms)
        OpenLoop.Plan plan = new OpenLoop.Plan(10, Duration.ofMillis(200), Duration.ofMillis(500), 100, Duration.ofSeconds(1));
        OpenLoop.Recording r = new OpenLoop.Recording(plan);
        set(r, 0, 0, 50, "OK", 1);               // warm-up, replied before the window
        set(r, 1, 100, 250, "OK", 2);            // warm-up, replied inside the window: counts for throughput only
        set(r, 2, 201, 210, "OK", 4);            // 10 ms after due
        set(r, 3, 305, 330, "OK", 8);            // 30 ms after due, sent 5 ms late
        set(r, 4, 400, 900, "DEADLINE_EXCEEDED", 0);
        r.sentAt[5] = OpenLoop.DROPPED;          // client backlog
        set(r, 6, 600, 0, null, 0);              // no reply within the drain time
        RateResult x = RateResult.of(r);
        assertEquals(5, x.due());
        assertEquals(1, x.dropped());
        assertEquals(4, x.sent());
        assertEquals(2, x.ok());
        assertEquals(Map.of("DEADLINE_EXCEEDED", 1L, RateResult.UNFINISHED, 1L), x.errors());
        assertEquals(2, x.errorCount());
        assertEquals(3 / 0.5, x.achievedRps(), 1e-9); // replies at 250, 210, 330 ms lie in [200, 700) ms
        assertEquals(new Percentiles.Summary(2, 10, 30, 30, 30, 20), x.latencyMs());
        assertEquals(new Percentiles.Summary(2, 4, 8, 8, 8, 6), x.batchSize());
        assertEquals(5, x.maxSendLagMs(), 1e-9);
        assertEquals(0.5, x.durationS());
    }

    private static void set(OpenLoop.Recording r, int i, long sentMs, long doneMs, String code, int batch) {
        r.sentAt[i] = sentMs * 1_000_000;
        r.doneAt[i] = doneMs * 1_000_000;
        r.code[i] = code;
        r.batch[i] = batch;
    }
}
