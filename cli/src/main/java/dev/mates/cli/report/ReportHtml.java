package dev.mates.cli.report;

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
    private static final String[] COLORS = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

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

    /** {@code integerX}: the x values are counts (stages): one tick per integer, never a repeated label. */
    static String lineChart(List<String> names, List<double[][]> series, String xLabel, String yLabel, boolean integerX) {
        int w = 720, hgt = 320, left = 70, right = 130, top = 15, bottom = 45;
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (double[][] s : series) {
            for (double[] p : s) {
                x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]);
                y0 = Math.min(y0, p[1]); y1 = Math.max(y1, p[1]);
            }
        }
        // Zoom on the later part of training when the first point dwarfs the rest (an untrained model's loss).
        if (x1 == x0) x1 = x0 + 1;
        if (y1 == y0) { y1 += 0.5; y0 -= 0.5; }
        double pad = (y1 - y0) * 0.05;
        y0 -= pad; y1 += pad;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">", w, hgt));
        int pw = w - left - right, ph = hgt - top - bottom;
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>", left, top, pw, ph));
        for (int i = 0; i <= 4; i++) {
            double yv = y0 + (y1 - y0) * i / 4;
            double yp = top + ph - ph * i / 4.0;
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>", left - 5, yp + 4, fmt(yv)));
        }
        for (double xv : xTicks(x0, x1, integerX)) {
            double xp = left + pw * (xv - x0) / (x1 - x0);
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>", xp, top + ph + 15, human(xv)));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%s</text>", left + pw / 2, hgt - 8, esc(xLabel)));
        s.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%d\" font-size=\"12\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">%s</text>", top + ph / 2, top + ph / 2, esc(yLabel)));
        for (int k = 0; k < series.size(); k++) {
            StringBuilder pts = new StringBuilder();
            for (double[] p : series.get(k)) {
                double xp = left + pw * (p[0] - x0) / (x1 - x0);
                double yp = top + ph - ph * (p[1] - y0) / (y1 - y0);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", xp, yp));
            }
            String c = COLORS[k % COLORS.length];
            s.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(c).append("\" points=\"").append(pts).append("\"/>");
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>",
                    left + pw + 10, top + 10 + 18 * k, c, left + pw + 28, top + 21 + 18 * k, esc(names.get(k))));
        }
        return s.append("</svg>").toString();
    }

    /** Five evenly spaced ticks, or for integer axes each integer (every k-th when there are more than ten). */
    static List<Double> xTicks(double x0, double x1, boolean integerX) {
        List<Double> ticks = new ArrayList<>();
        if (!integerX) {
            for (int i = 0; i <= 4; i++) ticks.add(x0 + (x1 - x0) * i / 4);
            return ticks;
        }
        long from = (long) Math.ceil(x0);
        long to = (long) Math.floor(x1);
        long every = Math.max(1, (to - from + 10) / 10);
        for (long v = from; v <= to; v += every) ticks.add((double) v);
        return ticks;
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

    private static String fmt(double v) {
        if (!Double.isFinite(v)) return "–";
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : "%.3f", v);
    }

    private static String human(double v) {
        if (v >= 1e12) return String.format(Locale.ROOT, "%.1fT", v / 1e12);
        if (v >= 1e9) return String.format(Locale.ROOT, "%.1fG", v / 1e9);
        if (v >= 1e6) return String.format(Locale.ROOT, "%.1fM", v / 1e6);
        if (v >= 1e3) return String.format(Locale.ROOT, "%.0fk", v / 1e3);
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
