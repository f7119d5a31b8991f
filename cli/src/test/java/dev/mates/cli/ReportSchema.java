package dev.mates.cli;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The jsonc block of docs/report-schema.md as a checker: every field of a report must be documented there, and
 * every documented field must be present unless the comment on its line says "optional" (the first key of that
 * line). Keys in angle brackets match any name; an array's one element describes every element. A documented
 * number may be null in the report only where its comment says "nullable".
 */
final class ReportSchema {
    private static final Pattern FIRST_KEY = Pattern.compile("\"([A-Za-z0-9_<>-]+)\"\\s*:");

    private final JsonNode template;
    private final Set<String> optional = new HashSet<>();
    private final Set<String> nullable = new HashSet<>();

    private ReportSchema(JsonNode template) {
        this.template = template;
    }

    static ReportSchema load(Path markdown) throws IOException {
        String md = Files.readString(markdown, StandardCharsets.UTF_8);
        int start = md.indexOf("```jsonc");
        int end = md.indexOf("```", start + 8);
        if (start < 0 || end < 0) throw new IllegalStateException(markdown + ": no ```jsonc block");
        StringBuilder json = new StringBuilder();
        Set<String> optional = new HashSet<>();
        Set<String> nullable = new HashSet<>();
        for (String line : md.substring(start + 8, end).split("\n")) {
            int c = line.indexOf("//");
            String code = c >= 0 ? line.substring(0, c) : line;
            String comment = c >= 0 ? line.substring(c) : "";
            Matcher m = FIRST_KEY.matcher(code);
            if (m.find()) {
                if (comment.contains("optional")) optional.add(m.group(1));
                if (comment.contains("nullable")) nullable.add(m.group(1));
            }
            json.append(code).append('\n');
        }
        JsonNode t = JsonMapper.builder().enable(JsonReadFeature.ALLOW_TRAILING_COMMA).build().readTree(json.toString());
        ReportSchema s = new ReportSchema(t);
        s.optional.addAll(optional);
        s.nullable.addAll(nullable);
        return s;
    }

    /** The problems of {@code report} against the documented fields; empty when it validates. */
    List<String> problems(JsonNode report) {
        List<String> out = new ArrayList<>();
        check(template, report, "", out);
        return out;
    }

    private void check(JsonNode doc, JsonNode real, String path, List<String> out) {
        if (doc.isObject()) {
            if (!real.isObject()) {
                out.add(path + ": documented as an object, is " + real.getNodeType());
                return;
            }
            String wildcard = wildcard(doc);
            for (Iterator<Map.Entry<String, JsonNode>> it = real.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode d = wildcard != null ? doc.get(wildcard) : doc.get(e.getKey());
                if (d == null) out.add(path + "/" + e.getKey() + ": in the report but not documented");
                else check(d, e.getValue(), path + "/" + e.getKey(), out);
            }
            if (wildcard == null) {
                doc.fieldNames().forEachRemaining(k -> {
                    if (!real.has(k) && !optional.contains(k)) out.add(path + "/" + k + ": documented but missing");
                });
            }
        } else if (doc.isArray()) {
            if (!real.isArray()) {
                out.add(path + ": documented as an array, is " + real.getNodeType());
                return;
            }
            if (doc.isEmpty()) return;
            for (int i = 0; i < real.size(); i++) check(doc.get(0), real.get(i), path + "/" + i, out);
        } else {
            String key = path.substring(path.lastIndexOf('/') + 1);
            boolean ok = real.isNull() ? nullable.contains(key)
                    : doc.isNumber() ? real.isNumber() || (real.isTextual() && real.asText().equals("NaN"))
                    : doc.isTextual() ? real.isTextual()
                    : doc.isBoolean() ? real.isBoolean() : true;
            if (!ok) out.add(path + ": documented as " + doc.getNodeType() + ", is " + real.getNodeType());
        }
    }

    private static String wildcard(JsonNode obj) {
        if (obj.size() != 1) return null;
        String k = obj.fieldNames().next();
        return k.startsWith("<") && k.endsWith(">") ? k : null;
    }
}
