package dev.mates.cli.report;

import static dev.mates.cli.report.SvgChart.esc;
import static dev.mates.cli.report.SvgChart.lineChart;

import dev.mates.loadtest.LoadReport;
import dev.mates.loadtest.RateResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * loadtest.html: a self-contained page (inline SVG, no scripts, no network) with latency percentiles and achieved
 * throughput against the offered rate for each scorer configuration, the batch sizes the server formed, and the
 * queue mode's throughput per worker count; every figure also in a table.
 */
public final class LoadTestHtml {
    private LoadTestHtml() {}

    public static String render(LoadReport r) {
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>mates loadtest</title><style>"
                + "body{font:14px sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse;margin:8px 0}"
                + "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}h2{margin-top:28px}"
                + ".note{color:#555}</style></head><body>");
        h.append("<h1>mates loadtest: ").append(esc(r.mode())).append(", ").append(esc(r.target())).append("</h1>");
        h.append("<p class=\"note\">");
        new TreeMap<>(r.settings()).forEach((k, v) -> h.append(esc(k)).append(" = ").append(esc(String.valueOf(v))).append("; "));
        h.append("</p>");
        if (!r.series().isEmpty()) online(h, r);
        if (!r.queue().isEmpty()) queue(h, r.queue());
        return h.append("</body></html>").toString();
    }

    private static void online(StringBuilder h, LoadReport r) {
        List<String> names = new ArrayList<>();
        List<double[][]> lines = new ArrayList<>();
        for (LoadReport.Series s : r.series()) {
            String suffix = r.series().size() > 1 ? " " + s.label() : "";
            names.add("p50" + suffix);
            lines.add(points(s, x -> x.latencyMs().p50()));
            names.add("p95" + suffix);
            lines.add(points(s, x -> x.latencyMs().p95()));
            names.add("p99" + suffix);
            lines.add(points(s, x -> x.latencyMs().p99()));
        }
        h.append("<h2>Latency vs offered rate</h2>")
                .append(lineChart(names, lines, "offered requests/s", "latency ms (log)", new SvgChart.Style(false, true, true)));
        h.append("<p class=\"note\">From each request's due time to its reply (open loop: a late send still counts from when it "
                + "was due), OK replies of the measured window only.</p>");

        names = new ArrayList<>(List.of("offered"));
        lines = new ArrayList<>();
        lines.add(points(r.series().get(0), RateResult::offeredRps));
        for (LoadReport.Series s : r.series()) {
            names.add("achieved" + (r.series().size() > 1 ? " " + s.label() : ""));
            lines.add(points(s, RateResult::achievedRps));
        }
        h.append("<h2>Achieved vs offered throughput</h2>")
                .append(lineChart(names, lines, "offered requests/s", "requests/s", new SvgChart.Style(false, true, false)));
        h.append("<p class=\"note\">Achieved: OK replies that arrived inside the measured window, per second. Below the offered "
                + "line the scorer is saturated: requests queue, time out or are refused.</p>");

        names = new ArrayList<>();
        lines = new ArrayList<>();
        for (LoadReport.Series s : r.series()) {
            names.add("mean batch" + (r.series().size() > 1 ? " " + s.label() : ""));
            lines.add(points(s, x -> x.batchSize().mean()));
        }
        h.append("<h2>Model batch size vs offered rate</h2>")
                .append(lineChart(names, lines, "offered requests/s", "documents per batch", new SvgChart.Style(false, true, false)));
        h.append("<p class=\"note\">The size of the model batch each OK request was scored in (ScoreResponse.batch_size): dynamic "
                + "batching groups concurrent requests.</p>");

        for (LoadReport.Series s : r.series()) {
            OptionalDouble c = s.capacityAtSlo(r.sloP99Ms());
            h.append("<h2>").append(esc(s.label())).append("</h2><p>Throughput with p99 ≤ ").append(num(r.sloP99Ms())).append(" ms: <b>")
                    .append(c.isPresent() ? num(c.getAsDouble()) + " requests/s" : "none of these rates").append("</b></p>");
            h.append("<table><tr><th>offered/s</th><th>achieved/s</th><th>due</th><th>ok</th><th>errors</th><th>dropped</th>"
                    + "<th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>batch mean</th><th>batch p50</th>"
                    + "<th>batch max</th><th>server batches (mean, recent max)</th><th>send lag ms</th></tr>");
            for (RateResult x : s.rates()) {
                h.append("<tr><td>").append(num(x.offeredRps())).append("</td><td>").append(num(x.achievedRps()))
                        .append("</td><td>").append(x.due()).append("</td><td>").append(x.ok())
                        .append("</td><td>").append(x.errors().isEmpty() ? "0" : esc(errors(x.errors())))
                        .append("</td><td>").append(x.dropped())
                        .append("</td><td>").append(num(x.latencyMs().p50())).append("</td><td>").append(num(x.latencyMs().p95()))
                        .append("</td><td>").append(num(x.latencyMs().p99())).append("</td><td>").append(num(x.latencyMs().max()))
                        .append("</td><td>").append(num(x.batchSize().mean())).append("</td><td>").append(num(x.batchSize().p50()))
                        .append("</td><td>").append(num(x.batchSize().max()))
                        .append("</td><td>").append(x.serverBatches() == null ? "–" : x.serverBatches().batches() + " batches, "
                                + num(x.serverBatches().mean()) + ", " + num(x.serverBatches().recentMax()))
                        .append("</td><td>").append(num(x.maxSendLagMs())).append("</td></tr>");
            }
            h.append("</table>");
        }
        if (r.series().size() > 1) {
            OptionalDouble base = r.series().get(0).capacityAtSlo(r.sloP99Ms());
            for (LoadReport.Series s : r.series().subList(1, r.series().size())) {
                OptionalDouble c = s.capacityAtSlo(r.sloP99Ms());
                if (base.isPresent() && c.isPresent() && base.getAsDouble() > 0) {
                    h.append("<p><b>").append(esc(s.label())).append("</b> serves ").append(num(c.getAsDouble() / base.getAsDouble()))
                            .append("× the requests/s of <b>").append(esc(r.series().get(0).label())).append("</b> at p99 ≤ ")
                            .append(num(r.sloP99Ms())).append(" ms.</p>");
                }
            }
        }
        h.append("<p class=\"note\">Errors: replies that were not OK, by gRPC status (DEADLINE_EXCEEDED: past the call's deadline; "
                + "RESOURCE_EXHAUSTED: the scorer's queue bound; UNFINISHED: no reply before the generator stopped waiting). "
                + "Dropped: due while the client already had its maximum of requests outstanding, so never sent. Send lag: how "
                + "late the generator sent its latest request; more than a few ms means the client was the limit.</p>");
    }

    private static void queue(StringBuilder h, List<LoadReport.QueueResult> q) {
        double[][] pts = new double[q.size()][];
        for (int i = 0; i < q.size(); i++) pts[i] = new double[] {q.get(i).workers(), q.get(i).docsPerSecond()};
        h.append("<h2>Scoring queue: throughput vs workers</h2>").append(lineChart(List.of("documents/s"), List.<double[][]>of(pts),
                "scorer workers", "documents/s", new SvgChart.Style(true, true, false)));
        h.append("<table><tr><th>workers</th><th>documents</th><th>time to drain s</th><th>documents/s</th><th>ratio</th></tr>");
        for (LoadReport.QueueResult x : q) {
            h.append("<tr><td>").append(x.workers()).append("</td><td>").append(x.documents()).append("</td><td>")
                    .append(num(x.drainSeconds())).append("</td><td>").append(num(x.docsPerSecond())).append("</td><td>")
                    .append(num(x.speedup())).append("×</td></tr>");
        }
        h.append("</table><p class=\"note\">Time to drain: from the first shard enqueued to the last one scored (median of the "
                + "repeats); ratio: documents/s over the first row's.</p>");
    }

    private static double[][] points(LoadReport.Series s, java.util.function.ToDoubleFunction<RateResult> y) {
        return s.rates().stream().map(x -> new double[] {x.offeredRps(), y.applyAsDouble(x)}).toArray(double[][]::new);
    }

    private static String errors(Map<String, Long> e) {
        StringBuilder b = new StringBuilder();
        e.forEach((k, v) -> b.append(b.length() > 0 ? ", " : "").append(k).append(' ').append(v));
        return b.toString();
    }

    private static String num(double v) {
        if (!Double.isFinite(v)) return "–";
        return String.format(Locale.ROOT, v >= 100 || v == Math.rint(v) ? "%.0f" : "%.1f", v);
    }
}
