package dev.mates.cli.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Line charts as inline SVG (no scripts, no network), for report.html and loadtest.html, and their number formats. */
public final class SvgChart {
    static final String[] COLORS = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

    private SvgChart() {}

    /**
     * @param integerX the x values are counts (stages): one tick per integer, never a repeated label
     * @param markers  a dot on every point (curves of a few measured points)
     * @param logY     a logarithmic y axis (latencies over orders of magnitude); values ≤ 0 are left out
     */
    public record Style(boolean integerX, boolean markers, boolean logY) {
        public static final Style PLAIN = new Style(false, false, false);
    }

    /** {@code series.get(k)} holds the (x, y) points of the line named {@code names.get(k)}. */
    static String lineChart(List<String> names, List<double[][]> series, String xLabel, String yLabel, boolean integerX) {
        return lineChart(names, series, xLabel, yLabel, new Style(integerX, false, false));
    }

    public static String lineChart(List<String> names, List<double[][]> series, String xLabel, String yLabel, Style style) {
        // The plot keeps its width; the legend's column grows with the longest name.
        int right = Math.max(130, 40 + 7 * names.stream().mapToInt(String::length).max().orElse(0));
        int w = 590 + right, hgt = 320, left = 70, top = 15, bottom = 45;
        double x0 = Double.MAX_VALUE, x1 = -Double.MAX_VALUE, y0 = Double.MAX_VALUE, y1 = -Double.MAX_VALUE;
        for (double[][] s : series) {
            for (double[] p : s) {
                if (style.logY && !(p[1] > 0)) continue;
                double y = style.logY ? Math.log10(p[1]) : p[1];
                x0 = Math.min(x0, p[0]); x1 = Math.max(x1, p[0]);
                y0 = Math.min(y0, y); y1 = Math.max(y1, y);
            }
        }
        if (x0 > x1) return "<p class=\"note\">no data</p>";
        if (x1 == x0) x1 = x0 + 1;
        if (style.logY) {
            y0 = Math.floor(y0);
            y1 = Math.max(Math.ceil(y1), y0 + 1);
        } else {
            if (y1 == y0) { y1 += 0.5; y0 -= 0.5; }
            double pad = (y1 - y0) * 0.05;
            y0 -= pad; y1 += pad;
        }
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg width=\"%d\" height=\"%d\" xmlns=\"http://www.w3.org/2000/svg\">", w, hgt));
        int pw = w - left - right, ph = hgt - top - bottom;
        s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>", left, top, pw, ph));
        if (style.logY) {
            for (double e = y0; e <= y1 + 1e-9; e++) {
                double yp = top + ph - ph * (e - y0) / (y1 - y0);
                s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", left, left + pw, yp, yp));
                s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>", left - 5, yp + 4, decade(e)));
            }
        } else {
            for (int i = 0; i <= 4; i++) {
                double yv = y0 + (y1 - y0) * i / 4;
                double yp = top + ph - ph * i / 4.0;
                s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>", left - 5, yp + 4, fmt(yv)));
            }
        }
        for (double xv : xTicks(x0, x1, style.integerX)) {
            double xp = left + pw * (xv - x0) / (x1 - x0);
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>", xp, top + ph + 15, human(xv)));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">%s</text>", left + pw / 2, hgt - 8, esc(xLabel)));
        s.append(String.format(Locale.ROOT, "<text x=\"12\" y=\"%d\" font-size=\"12\" transform=\"rotate(-90 12 %d)\" text-anchor=\"middle\">%s</text>", top + ph / 2, top + ph / 2, esc(yLabel)));
        for (int k = 0; k < series.size(); k++) {
            StringBuilder pts = new StringBuilder();
            String c = COLORS[k % COLORS.length];
            for (double[] p : series.get(k)) {
                if (style.logY && !(p[1] > 0)) continue;
                double y = style.logY ? Math.log10(p[1]) : p[1];
                double xp = left + pw * (p[0] - x0) / (x1 - x0);
                double yp = top + ph - ph * (y - y0) / (y1 - y0);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", xp, yp));
                if (style.markers) {
                    s.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s: %s, %s</title></circle>",
                            xp, yp, c, esc(names.get(k)), fmt(p[0]), fmt(p[1])));
                }
            }
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

    /** 10^e as people write it: 0.01, 0.1, 1, 10, 100… */
    static String decade(double e) {
        return e >= 0 ? Long.toString(Math.round(Math.pow(10, e))) : new java.math.BigDecimal("1E" + (long) e).toPlainString();
    }

    static String fmt(double v) {
        if (!Double.isFinite(v)) return "–";
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : "%.3f", v);
    }

    static String human(double v) {
        if (v >= 1e12) return String.format(Locale.ROOT, "%.1fT", v / 1e12);
        if (v >= 1e9) return String.format(Locale.ROOT, "%.1fG", v / 1e9);
        if (v >= 1e6) return String.format(Locale.ROOT, "%.1fM", v / 1e6);
        if (v >= 1e3) return String.format(Locale.ROOT, "%.0fk", v / 1e3);
        return String.format(Locale.ROOT, "%.0f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
