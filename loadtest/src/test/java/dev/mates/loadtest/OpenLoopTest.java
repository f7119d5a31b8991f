package dev.mates.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The open loop against senders whose replies a test controls: its schedule, its bounds and what it measures. */
class OpenLoopTest {
    final ScheduledExecutorService replies = Executors.newScheduledThreadPool(2);

    @AfterEach
    void stop() {
        replies.shutdownNow();
    }

    static OpenLoop.Plan plan(double rate, long warmupMs, long durationMs, int maxInFlight) {
        return new OpenLoop.Plan(rate, Duration.ofMillis(warmupMs), Duration.ofMillis(durationMs), maxInFlight, Duration.ofMillis(500));
    }

    /** Replies OK (batch size 3) {@code delayMs} after each send. */
    OpenLoop.Sender after(long delayMs) {
        return (i, done) -> replies.schedule(() -> done.accept(new OpenLoop.Reply(OpenLoop.Reply.OK, 3)), delayMs, TimeUnit.MILLISECONDS);
    }

    @Test
    void planCountsByHand() {
        OpenLoop.Plan p = plan(10, 1000, 2000, 100);
        assertEquals(10, p.warmupRequests()); // due at 0, 0.1 … 0.9 s
        assertEquals(30, p.total());
        assertEquals(300_000_000L, p.dueNanos(3));
        assertEquals(3, plan(2.5, 0, 1000, 1).total()); // due at 0, 0.4, 0.8 s
        assertEquals(0, plan(2.5, 0, 1000, 1).warmupRequests());
        assertThrows(IllegalArgumentException.class, () -> plan(100_000, 0, 3_600_000, 1), "360 M requests");
        assertThrows(IllegalArgumentException.class, () -> plan(0, 0, 1000, 1));
        assertThrows(IllegalArgumentException.class, () -> plan(10, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> plan(10, 0, 1000, 0));
    }

    @Test
    void sendsOnScheduleRegardlessOfReplies() throws Exception {
        // Every reply takes 300 ms; at 100/s a closed loop of one would send 2 in 0.6 s, the open loop sends all 60.
        List<Long> sentAt = Collections.synchronizedList(new ArrayList<>());
        OpenLoop.Sender slow = after(300);
        OpenLoop.Recording rec = OpenLoop.run(plan(100, 100, 500, 1000), (i, done) -> {
            sentAt.add(System.nanoTime());
            slow.send(i, done);
        });
        RateResult r = RateResult.of(rec);
        assertEquals(60, sentAt.size());
        double spreadS = (sentAt.get(59) - sentAt.get(0)) / 1e9;
        assertTrue(spreadS > 0.55 && spreadS < 0.75, "request 59 is due 0.59 s after request 0, sent after " + spreadS);
        assertEquals(50, r.due());
        assertEquals(50, r.ok());
        assertEquals(0, r.dropped());
        assertTrue(r.latencyMs().p50() >= 300 && r.latencyMs().p50() < 600, "latency includes the 300 ms reply: " + r);
        assertEquals(3, r.batchSize().mean());
    }

    @Test
    void latencyCountsFromTheDueTimeWhenTheGeneratorFallsBehind() throws Exception {
        // The first send stalls the pacing thread for 200 ms (as a GC pause would). Requests due meanwhile go out late,
        // in a burst, and their wait counts: no coordinated omission.
        OpenLoop.Sender fast = after(1);
        OpenLoop.Recording rec = OpenLoop.run(plan(100, 0, 500, 1000), (i, done) -> {
            if (i == 0) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            fast.send(i, done);
        });
        RateResult r = RateResult.of(rec);
        assertEquals(50, r.ok());
        assertTrue(r.maxSendLagMs() >= 180, "request 1 was due at 10 ms and sent after 200 ms: " + r);
        assertTrue(r.latencyMs().max() >= 180, "its latency holds the wait: " + r);
        assertTrue(r.latencyMs().p50() < 50, "the ones due after the stall are fast: " + r);
    }

    @Test
    void beyondMaxInFlightRequestsAreDroppedNotQueued() throws Exception {
        // Replies never come: 3 requests go out, every later one is dropped; the wait for the 3 is bounded.
        List<Consumer<OpenLoop.Reply>> pending = Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        OpenLoop.Recording rec = OpenLoop.run(plan(100, 0, 300, 3), (i, done) -> pending.add(done));
        double s = (System.nanoTime() - t0) / 1e9;
        RateResult r = RateResult.of(rec);
        assertEquals(30, r.due());
        assertEquals(3, r.sent());
        assertEquals(27, r.dropped());
        assertEquals(Map.of(RateResult.UNFINISHED, 3L), r.errors());
        assertEquals(0, r.ok());
        assertTrue(s < 1.5, "0.3 s of load + 0.5 s of drain, took " + s);
    }

    @Test
    void aSenderThatThrowsIsAnErrorNotAnEnd() throws Exception {
        OpenLoop.Recording rec = OpenLoop.run(plan(50, 0, 200, 10), (i, done) -> {
            throw new IllegalStateException("channel shut down");
        });
        assertEquals(Map.of("CLIENT_IllegalStateException", 10L), RateResult.of(rec).errors());
    }
}
