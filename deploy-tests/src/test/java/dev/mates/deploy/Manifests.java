package dev.mates.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses rendered manifests into typed models: fabric8's for Kubernetes (and the Prometheus-operator
 * ServiceMonitor), {@link Keda}'s for KEDA, {@link CertManager}'s for cert-manager. A field the model does not know
 * is an error, as it would be for the API server (it lands in a model's additionalProperties, which
 * {@link #unknownFields} walks; a record without such a field fails to parse), and so is a scalar of the wrong type
 * (a number where the API wants a string, as in env values or KEDA trigger metadata).
 */
final class Manifests {
    private Manifests() {
    }

    /** One parsed object, with where it came from (for messages). */
    record Obj(String source, HasMetadata model, Object typed) {
        String kind() {
            return model.getKind();
        }

        String name() {
            return model.getMetadata().getName();
        }

        @Override
        public String toString() {
            return kind() + "/" + name() + " (" + source + ")";
        }
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper STRICT = strict(new ObjectMapper());
    private static final KubernetesSerialization K8S = new KubernetesSerialization(strict(new ObjectMapper()), true);

    private static ObjectMapper strict(ObjectMapper m) {
        m.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
        // The API server does not turn 8 into "8" or "true" into true: neither may the parse.
        for (CoercionInputShape shape : List.of(CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean)) {
            m.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        for (LogicalType t : List.of(LogicalType.Integer, LogicalType.Float, LogicalType.Boolean)) {
            m.coercionConfigFor(t).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        }
        return m;
    }

    /** Every document of a multi-document YAML text, typed; empty documents (Helm's blank templates) are skipped. */
    static List<Obj> parse(String yaml, String source) {
        List<Obj> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            int doc = 0;
            while (it.hasNext()) {
                JsonNode node = it.next();
                doc++;
                if (node == null || node.isNull() || node.isEmpty()) continue;
                String where = source + " document " + doc + " (" + node.path("kind").asText("?") + "/"
                        + node.path("metadata").path("name").asText("?") + ")";
                try {
                    out.add(typed(node, where));
                } catch (RuntimeException e) {
                    problems.add(where + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new AssertionError(source + ": not valid YAML: " + e.getMessage(), e);
        }
        if (!problems.isEmpty()) throw new AssertionError("objects that do not parse as their typed model:\n  " + String.join("\n  ", problems));
        return out;
    }

    private static Obj typed(JsonNode node, String where) {
        String apiVersion = node.path("apiVersion").asText("");
        String kind = node.path("kind").asText("");
        if (apiVersion.isEmpty() || kind.isEmpty()) throw new IllegalArgumentException("apiVersion and kind are required");
        Object typed;
        HasMetadata model;
        if (apiVersion.startsWith("keda.sh/") || apiVersion.startsWith("cert-manager.io/")) {
            Class<?> type = switch (apiVersion + " " + kind) {
                case "keda.sh/v1alpha1 ScaledObject" -> Keda.ScaledObject.class;
                case "keda.sh/v1alpha1 TriggerAuthentication" -> Keda.TriggerAuthentication.class;
                case "cert-manager.io/v1 Certificate" -> CertManager.Certificate.class;
                default -> throw new IllegalArgumentException("no typed model for " + apiVersion + " " + kind);
            };
            try {
                typed = STRICT.treeToValue(node, type);
            } catch (IOException e) {
                throw new IllegalArgumentException(e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage(), e);
            }
            model = K8S.convertValue(node, GenericKubernetesResource.class);
        } else {
            KubernetesResource r = K8S.convertValue(node, KubernetesResource.class);
            if (r instanceof GenericKubernetesResource) {
                throw new IllegalArgumentException("no typed model for " + apiVersion + " " + kind
                        + " (a typo in apiVersion or kind, or a CRD this test does not know)");
            }
            model = (HasMetadata) r;
            typed = r;
        }
        List<String> unknown = unknownFields(typed, "");
        if (!unknown.isEmpty()) throw new IllegalArgumentException("unknown fields " + unknown);
        return new Obj(where, model, typed);
    }

    /** Paths of every field a typed model did not recognise (its additionalProperties), depth first. */
    static List<String> unknownFields(Object root, String path) {
        List<String> out = new ArrayList<>();
        walk(root, path, out, new IdentityHashMap<>(), 0);
        return out;
    }

    private static void walk(Object o, String path, List<String> out, IdentityHashMap<Object, Boolean> seen, int depth) {
        if (o == null || depth > 80 || seen.put(o, Boolean.TRUE) != null) return;
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) walk(e, path + "[" + i++ + "]", out, seen, depth + 1);
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) walk(e.getValue(), path + "." + e.getKey(), out, seen, depth + 1);
            return;
        }
        Class<?> c = o.getClass();
        String pkg = c.getPackageName();
        if (!pkg.startsWith("io.fabric8") && !pkg.startsWith("dev.mates.deploy")) return;
        for (Method m : c.getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || m.getDeclaringClass() == Object.class) continue;
            String n = m.getName();
            boolean getter = (n.startsWith("get") && n.length() > 3) || c.isRecord() && isRecordAccessor(c, n);
            if (!getter || n.equals("getClass")) continue;
            Object v;
            try {
                v = m.invoke(o);
            } catch (ReflectiveOperationException | RuntimeException e) {
                continue;
            }
            if (n.equals("getAdditionalProperties")) {
                if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    for (Object k : extra.keySet()) out.add((path.isEmpty() ? "" : path + ".") + k);
                }
                continue;
            }
            String field = n.startsWith("get") ? Character.toLowerCase(n.charAt(3)) + n.substring(4) : n;
            walk(v, path.isEmpty() ? field : path + "." + field, out, seen, depth + 1);
        }
    }

    private static boolean isRecordAccessor(Class<?> c, String name) {
        for (var rc : c.getRecordComponents()) if (rc.getName().equals(name)) return true;
        return false;
    }
}
