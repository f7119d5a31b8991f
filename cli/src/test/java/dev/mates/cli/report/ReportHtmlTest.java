package dev.mates.cli.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ReportHtmlTest {
    @Test
    void stageAxisHasOneTickPerStageAndNoRepeats() {
        assertEquals(List.of(1.0, 2.0, 3.0, 4.0), SvgChart.xTicks(1, 4, true));
        assertEquals(List.of(1.0, 2.0), SvgChart.xTicks(1, 2, true));
        List<Double> many = SvgChart.xTicks(1, 40, true);
        assertTrue(many.size() <= 11 && many.get(0) == 1.0, many.toString());
        assertEquals(5, SvgChart.xTicks(0, 1000, false).size());
    }

    @Test
    void theSpearmanChartOfFourStagesLabelsEachStageOnce() throws Exception {
        StringBuilder stages = new StringBuilder("[");
        for (int s = 1; s <= 4; s++) {
            stages.append(s > 1 ? "," : "").append("{\"stage\":").append(s)
                    .append(",\"influence\":{\"val_spearman\":0.").append(s).append("}}");
        }
        JsonNode r = new ObjectMapper().readTree("{\"run\":\"r\",\"arms\":{},\"stages\":" + stages + "]}");
        String html = ReportHtml.render(r);
        String chart = html.substring(html.indexOf("validation Spearman per stage"));
        chart = chart.substring(0, chart.indexOf("</svg>"));
        Matcher m = Pattern.compile("text-anchor=\"middle\">([^<]*)</text>").matcher(chart);
        List<String> labels = new ArrayList<>();
        while (m.find()) labels.add(m.group(1));
        assertEquals(List.of("1", "2", "3", "4", "stage", "Spearman"), labels);
    }
}
