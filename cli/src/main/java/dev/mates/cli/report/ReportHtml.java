package dev.mates.cli.report;

import static dev.mates.cli.report.SvgChart.COLORS;
import static dev.mates.cli.report.SvgChart.esc;
import static dev.mates.cli.report.SvgChart.fmt;
import static dev.mates.cli.report.SvgChart.human;
import static dev.mates.cli.report.SvgChart.lineChart;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * report.html: a self-contained page (inline SVG, no scripts, no network) with reference and held-out loss vs
 * tokens for every arm, per-stage influence-model validation Spearman, and the composition of each selection
 * by {@code "source"}.
 */
public final class ReportHtml {
    private ReportHtml() {}

    public static String render(JsonNode r) {
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>mates report ")
                .append(esc(r.path("run").asText())).append("</title><style>body{font:14px sans-serif;margin:24px;max-width:1000px}"
                        + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                        + "th{background:#f4f4f4}h2{margin-top:28px}.note{color:#555}</style></head><body>");
        h.append("<h1>mates run ").append(esc(r.path("run").asText())).append("</h1>");
        JsonNode te = r.path("token_efficiency");
        h.append("<p><b>Token efficiency</b> (tokens the selector arm needed to reach the baseline's reference loss at equal "
                + "tokens ÷ those tokens): ").append(te.isNull() || te.isMissingNode() ? "not reached" : fmt(te.asDouble()))
                .append("</p>");
        h.append("<table><tr><th>arm</th><th>tokens</th><th>final reference loss</th><th>final held-out loss</th>"
                + "<th>selection overhead (s)</th><th>overhead FLOPs / train FLOPs</th><th>total FLOPs</th><th>budget steps</th></tr>");
        r.path("arms").fields().forEachRemaining(e -> {
            JsonNode a = e.getValue();
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(a.path("tokens").asLong())
                    .append("</td><td>").append(fmt(a.path("final_reference_loss").asDouble()))
                    .append("</td><td>").append(a.has("final_heldout_loss") ? fmt(a.get("final_heldout_loss").asDouble()) : "–")
                    .append("</td><td>").append(fmt(a.path("selection_overhead_seconds").asDouble()))
                    .append("</td><td>").append(fmt(a.path("selection_overhead_flops").asDouble() / Math.max(1, a.path("train_flops").asDouble())))
                    .append("</td><td>").append(human(a.path("total_flops").asDouble()))
                    .append("</td><td>").append(a.path("budget_steps").asInt()).append("</td></tr>");
        });
        h.append("</table>");
        h.append("<h2>Reference loss vs training tokens</h2>").append(lossChart(r.path("arms"), "tokens", "reference_loss"));
        h.append("<h2>Held-out loss vs training tokens</h2>").append(lossChart(r.path("arms"), "tokens", "heldout_loss"));
        h.append("<p class=\"note\">Compared at equal ").append(esc(r.path("baseline_budget").asText("tokens")))
                .append("; compute efficiency (total FLOPs the selector arm needed to reach the baseline's final reference "
                        + "loss ÷ the baseline's total FLOPs, selection overhead included): ")
                .append(r.path("compute_efficiency").isNumber() ? fmt(r.path("compute_efficiency").asDouble()) : "not reached")
                .append("</p>");
        h.append("<h2>Reference loss vs total FLOPs (training + selection overhead)</h2>")
                .append(lossChart(r.path("arms"), "flops", "reference_loss"));
        h.append("<h2>Held-out loss vs total FLOPs</h2>").append(lossChart(r.path("arms"), "flops", "heldout_loss"));
        h.append("<h2>Influence model validation Spearman per stage</h2>").append(spearmanChart(r.path("stages")));
        h.append("<h2>Composition of each selection by source</h2>").append(compositionChart(r.path("stages")));
        h.append("<h2>Stages</h2><table><tr><th>stage</th><th>step</th><th>probes</th><th>probe s</th>"
                + "<th>oracle ρ vs exact</th><th>backbone</th><th>val ρ</th><th>val r</th><th>scored</th><th>score s</th>"
                + "<th>k</th><th>τ</th></tr>");
        for (JsonNode s : r.path("stages")) {
            h.append("<tr><td>").append(s.path("stage").asInt()).append("</td><td>").append(s.path("step").asLong())
                    .append("</td><td>").append(s.path("oracle").path("count").asInt())
                    .append("</td><td>").append(fmt(s.path("oracle").path("seconds").asDouble()))
                    .append("</td><td>").append(s.path("oracle").path("fidelity_spearman").isNumber()
                            ? fmt(s.path("oracle").get("fidelity_spearman").asDouble()) + " (" + esc(s.path("oracle").path("fidelity_method").asText()) + ")" : "–")
                    .append("</td><td>").append(esc(s.path("influence").path("backbone").asText("–")))
                    .append("</td><td>").append(fmt(s.path("influence").path("val_spearman").asDouble()))
                    .append("</td><td>").append(fmt(s.path("influence").path("val_pearson").asDouble()))
                    .append("</td><td>").append(s.path("scoring").path("docs").asInt())
                    .append("</td><td>").append(fmt(s.path("scoring").path("seconds").asDouble()))
                    .append("</td><td>").append(s.path("selection").path("k").asInt())
                    .append("</td><td>").append(fmt(s.path("selection").path("tau").asDouble())).append("</td></tr>");
        }
        h.append("</table><p class=\"note\">Full data: report.json (schema in docs/report-schema.md).</p></body></html>");
        return h.toString();
    }

    private static String lossChart(JsonNode arms, String x, String field) {
        List<String> names = new ArrayList<>();
        List<double[][]> series = new ArrayList<>();
        arms.fields().forEachRemaining(e -> {
            List<double[]> pts = new ArrayList<>();
            for (JsonNode p : e.getValue().path("curve")) {
                if (p.has(field) && p.has(x)) pts.add(new double[] {p.get(x).asDouble(), p.get(field).asDouble()});
            }
            if (!pts.isEmpty()) {
                names.add(e.getKey());
                series.add(pts.toArray(double[][]::new));
            }
        });
        if (series.isEmpty()) return "<p class=\"note\">no data</p>";
        return lineChart(names, series, x.equals("flops") ? "total FLOPs" : x, field.replace('_', ' '), false);
    }

    private static String spearmanChart(JsonNode stages) {
        List<double[]> pts = new ArrayList<>();
        for (JsonNode s : stages) {
            if (s.has("influence")) pts.add(new double[] {s.get("stage").asDouble(), s.get("influence").path("val_spearman").asDouble()});
        }
        if (pts.isEmpty()) return "<p class=\"note\">no influence model was fitted (random selector)</p>";
        List<double[][]> one = new ArrayList<>();
        one.add(pts.toArray(double[][]::new));
        return lineChart(List.of("val Spearman"), one, "stage", "Spearman", true);
    }

    private static String compositionChart(JsonNode stages) {
        TreeSet<String> sources = new TreeSet<>();
        List<String> labels = new ArrayList<>();
        List<JsonNode> comps = new ArrayList<>();
        for (JsonNode s : stages) {
            for (String kind : new String[] {"pool_composition", "composition"}) {
                JsonNode c = kind.equals("composition") ? s.path("selection").path("composition") : s.path("selection").path("pool_composition");
                if (c.isMissingNode()) continue;
                labels.add("s" + s.path("stage").asInt() + (kind.equals("composition") ? " " + s.path("selection").path("selector").asText() : " pool"));
                comps.add(c);
                c.fieldNames().forEachRemaining(sources::add);
            }
            JsonNode b = s.path("baseline_selection");
            if (!b.isMissingNode()) {
                labels.add("s" + s.path("stage").asInt() + " " + b.path("selector").asText());
                comps.add(b.path("composition"));
                b.path("composition").fieldNames().forEachRemaining(sources::add);
            }
        }
        if (comps.isEmpty()) return "<p class=\"note\">no selections</p>";
        List<String> src = new ArrayList<>(sources);
        int barH = 18, left = 150, width = 500;
        StringBuilder s = new StringBuilder();
        int height = comps.size() * (barH + 6) + 30 + 18 * ((src.size() + 2) / 3);
        s.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">", left + width + 20, height));
        for (int i = 0; i < comps.size(); i++) {
            double total = 0;
            for (String k : src) total += comps.get(i).path(k).asDouble(0);
            double x = left;
            int y = 5 + i * (barH + 6);
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">%s</text>", left - 6, y + 13, esc(labels.get(i))));
            for (int k = 0; k < src.size(); k++) {
                double wv = total > 0 ? width * comps.get(i).path(src.get(k)).asDouble(0) / total : 0;
                s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s %.1f%%</title></rect>",
                        x, y, wv, barH, COLORS[k % COLORS.length], esc(src.get(k)), total > 0 ? 100 * comps.get(i).path(src.get(k)).asDouble(0) / total : 0));
                x += wv;
            }
        }
        int ly = comps.size() * (barH + 6) + 15;
        for (int k = 0; k < src.size(); k++) {
            int lx = left + (k % 3) * 170;
            int yy = ly + (k / 3) * 18;
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>",
                    lx, yy, COLORS[k % COLORS.length], lx + 16, yy + 11, esc(src.get(k))));
        }
        return s.append("</svg>").toString();
    }
}
