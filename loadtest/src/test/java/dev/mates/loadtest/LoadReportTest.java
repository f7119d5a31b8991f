package dev.mates.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class LoadReportTest {
    static RateResult rate(double offered, double achieved, double p99, long errors) {
        Percentiles.Summary lat = new Percentiles.Summary(100, p99 / 2, p99, p99, p99, p99 / 2);
        return new RateResult(offered, 10, 1000, 1000, 1000 - errors, 0, errors == 0 ? Map.of() : Map.of("DEADLINE_EXCEEDED", errors),
                achieved, lat, new Percentiles.Summary(1000, 4, 8, 8, 8, 4.5), 0.2, null);
    }

    @Test
    void capacityAtTheSloIsTheBestRateWithinItsP99AndWithoutErrors() {
        LoadReport.Series s = new LoadReport.Series("default", Map.of(), List.of(rate(10, 10, 5, 0), rate(50, 49.5, 20, 0),
                rate(100, 97, 80, 1), rate(200, 120, 900, 400)));
        assertEquals(OptionalDouble.of(97), s.capacityAtSlo(100)); // 1 error in 1000 is within 0.1%
        assertEquals(OptionalDouble.of(49.5), s.capacityAtSlo(50));
        assertEquals(OptionalDouble.empty(), s.capacityAtSlo(1));
    }

    @Test
    void jsonIsSnakeCaseWithTheCapacityOfEachSeries() {
        LoadReport r = new LoadReport("online", "127.0.0.1:9006", Map.of("duration_s", 30), 100,
                List.of(new LoadReport.Series("mates.scorer.max-batch=1", Map.of("mates.scorer.max-batch", "1"), List.of(rate(10, 10, 5, 0))),
                        new LoadReport.Series("default", Map.of(), List.of(rate(10, 10, 5, 0), rate(50, 50, 9, 0)))),
                List.of());
        JsonNode j = r.toJson();
        assertEquals(10.0, j.at("/series/0/capacity_at_slo_rps").asDouble());
        assertEquals(50.0, j.at("/series/1/capacity_at_slo_rps").asDouble());
        JsonNode rate = j.at("/series/1/rates/1");
        assertEquals(50.0, rate.get("offered_rps").asDouble());
        assertEquals(9.0, rate.at("/latency_ms/p99").asDouble());
        assertEquals(4.5, rate.at("/batch_size/mean").asDouble());
        assertTrue(rate.has("max_send_lag_ms") && rate.has("server_batches") && rate.has("errors"), rate.toString());
        String table = r.table();
        assertTrue(table.contains("default vs mates.scorer.max-batch=1 at p99 ≤ 100 ms: 5.00x"), table);
    }
}
