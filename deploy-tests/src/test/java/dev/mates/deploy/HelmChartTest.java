package dev.mates.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.mates.deploy.Manifests.Obj;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** charts/mates: lint and template through helm-java (Helm's own library), then the same rules as k8s/. */
class HelmChartTest {
    private static final Path CHART = Repo.ROOT.resolve("charts/mates");
    static final String KUBE_VERSION = "1.31.0";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static String stream;
    private static String group;

    @BeforeAll
    static void setUp() {
        Properties scorer = Repo.appProperties("scorer");
        stream = scorer.getProperty("mates.queue.stream");
        group = scorer.getProperty("mates.queue.group");
    }

    private static TemplateCommand template(String... valuesFiles) {
        TemplateCommand t = new Helm(CHART).template().withName("mates").withNamespace("mates")
                // without a cluster helm-java assumes Kubernetes 1.20, below the chart's kubeVersion
                .withKubeVersion(KUBE_VERSION);
        for (String v : valuesFiles) t = t.withValuesFile(CHART.resolve(v));
        return t;
    }

    private static List<Obj> render(TemplateCommand t, String label) {
        return Manifests.parse(t.call(), "helm template " + label);
    }

    @Test
    void lintsStrictWithDefaultValues() {
        LintResult r = new Helm(CHART).lint().strict().call();
        assertFalse(r.isFailed(), "helm lint --strict:\n" + String.join("\n", r.getMessages()));
    }

    /** helm-java's lint takes no values file: lint a copy of the chart whose values.yaml is defaults + the variant. */
    @ParameterizedTest
    @ValueSource(strings = {"ci/gpu-values.yaml", "ci/external-values.yaml", "ci/keda-values.yaml"})
    void lintsStrictWithEachVariant(String variant, @TempDir Path tmp) throws IOException {
        Path copy = copyChart(tmp);
        Map<String, Object> merged = merge(read(CHART.resolve("values.yaml")), read(CHART.resolve(variant)));
        YAML.writeValue(copy.resolve("values.yaml").toFile(), merged);
        LintResult r = new Helm(copy).lint().strict().call();
        assertFalse(r.isFailed(), "helm lint --strict with " + variant + ":\n" + String.join("\n", r.getMessages()));
    }

    @Test
    void defaultValues() {
        List<Obj> objs = render(template(), "(default values)");
        ManifestRules.check(objs, new ManifestRules.Expect("helm default", false, true, "hpa", stream, group, true, false));
        // the generated credentials are the ones the workloads reference
        var names = objs.stream().filter(o -> o.kind().equals("Secret")).map(Obj::name).sorted().toList();
        assertEquals(List.of("mates-auth", "mates-object-store", "mates-redis"), names);
    }

    /** Without auth.existingSecret the chart makes mates-auth: two distinct random 64-hex tokens, both mounted in every service. */
    @Test
    void generatedTokensAreRandomAndMountedEverywhere() {
        List<Obj> objs = render(template(), "(default values)");
        ManifestRules rules = rules(objs);
        Secret auth = secret(objs, "mates-auth");
        String token = ManifestRules.secretValue(auth, "token");
        String internal = ManifestRules.secretValue(auth, "internal-token");
        assertEquals(2, auth.getData().size(), "mates-auth holds exactly token and internal-token: " + auth.getData().keySet());
        assertTrue(token != null && token.matches("[0-9a-f]{64}"), "token is 64 hex characters: " + (token == null ? null : token.length()));
        assertTrue(internal != null && internal.matches("[0-9a-f]{64}"), "internal-token is 64 hex characters");
        assertNotEquals(token, internal, "the client and the service token must differ");
        for (String c : ManifestRules.MATES_COMPONENTS) {
            ManifestRules.TOKEN_FILES.forEach((variable, key) ->
                    assertEquals(new ManifestRules.SecretFile("mates-auth", key), rules.tokenFile(c, variable), c + " " + variable));
        }
        // helm template sees no installed Secret to keep, so every rendering draws new tokens
        Secret again = secret(render(template(), "(default values, again)"), "mates-auth");
        assertNotEquals(token, ManifestRules.secretValue(again, "token"), "tokens are drawn at random");
    }

    /**
     * Mounted Secret files are updated in place and the services re-read them: nothing in a pod template may depend
     * on the token values (a checksum annotation would restart every service on each rotation or regeneration).
     */
    @Test
    void podTemplatesDoNotDependOnTheTokens() {
        List<Obj> one = render(template(), "(default values)");
        List<Obj> two = render(template(), "(default values, again)");
        assertNotEquals(ManifestRules.secretValue(secret(one, "mates-auth"), "token"), ManifestRules.secretValue(secret(two, "mates-auth"), "token"));
        assertEquals(deployments(one), deployments(two), "a Deployment changes with the (random) tokens");
    }

    /** The token rules reject what would break rotation or leak the tokens (the renderings above pass them). */
    @ParameterizedTest
    @ValueSource(strings = {"subPath", "mode", "short", "missing"})
    void tokenRulesCatchBrokenMounts(String breakage) {
        String text = template().call();
        String broken = switch (breakage) {
            case "subPath" -> text.replaceFirst("(?m)^( +)- name: auth\n +mountPath: /var/run/mates/auth\n",
                    "$1- name: auth\n$1  mountPath: /var/run/mates/auth/token\n$1  subPath: token\n");
            case "mode" -> text.replaceFirst("defaultMode: 0440", "defaultMode: 0444");
            case "short" -> text.replaceFirst("(?m)^(  token: )\"[^\"]+\"", "$1\"" + java.util.Base64.getEncoder().encodeToString("too-short".getBytes()) + "\"");
            default -> text.replaceFirst("(?m)^ +- name: MATES_AUTH_INTERNAL_TOKEN_FILE\n +value: [^\n]+\n", "");
        };
        assertNotEquals(text, broken, breakage + ": the rendering no longer has what this test breaks");
        String expected = switch (breakage) {
            case "subPath" -> "subPath mount";
            case "mode" -> "mode 0444";
            case "short" -> "at least " + ManifestRules.MIN_TOKEN_CHARS;
            default -> "MATES_AUTH_INTERNAL_TOKEN_FILE is not set";
        };
        AssertionError e = assertThrows(AssertionError.class, () -> ManifestRules.check(Manifests.parse(broken, breakage),
                new ManifestRules.Expect("helm " + breakage, false, true, "hpa", stream, group, true, false)));
        assertTrue(e.getMessage().contains(expected), breakage + ": expected '" + expected + "' in\n" + e.getMessage());
    }

    @Test
    void existingAuthSecretIsMountedAndNoneIsGenerated() {
        List<Obj> objs = render(template().set("auth.existingSecret", "team-tokens"), "auth.existingSecret");
        ManifestRules.check(objs, new ManifestRules.Expect("helm existing auth Secret", false, true, "hpa", stream, group, true, false));
        assertTrue(objs.stream().noneMatch(o -> o.kind().equals("Secret") && o.name().equals("mates-auth")), "mates-auth is rendered although auth.existingSecret is set");
        ManifestRules rules = rules(objs);
        for (String c : ManifestRules.MATES_COMPONENTS) {
            ManifestRules.TOKEN_FILES.forEach((variable, key) ->
                    assertEquals(new ManifestRules.SecretFile("team-tokens", key), rules.tokenFile(c, variable), c + " " + variable));
        }
    }

    /** helm-java's template leaves hooks out: render a copy whose bucket Job is a plain template, and check it too. */
    @Test
    void bucketJobHookKeepsTheRules(@TempDir Path tmp) throws IOException {
        Path copy = copyChart(tmp);
        Path job = copy.resolve("templates/bucket-job.yaml");
        String text = Files.readString(job);
        String plain = text.replaceAll("(?m)^\\s*\"?helm\\.sh/hook[^\\n]*\\n", "");
        assertNotEquals(text, plain, "bucket-job.yaml is expected to be a Helm hook");
        Files.writeString(job, plain);
        List<Obj> objs = Manifests.parse(new Helm(copy).template().withName("mates").withNamespace("mates").withKubeVersion(KUBE_VERSION).call(),
                "bucket Job without hook annotations");
        ManifestRules.check(objs, new ManifestRules.Expect("helm bucket Job", false, true, "hpa", stream, group, true, true));
    }

    @Test
    void gpuValuesPutGpusOnScorerWorkersOnly() {
        ManifestRules.check(render(template("ci/gpu-values.yaml"), "ci/gpu-values.yaml"),
                new ManifestRules.Expect("helm gpu", true, true, "hpa", stream, group, true, false));
    }

    @Test
    void externalStoresUseTheExistingSecretsAndRenderNoStore() {
        List<Obj> objs = render(template("ci/external-values.yaml"), "ci/external-values.yaml");
        ManifestRules.check(objs, new ManifestRules.Expect("helm external", false, false, "hpa", stream, group, false, false));
        Map<String, Object> values = read(CHART.resolve("ci/external-values.yaml"));
        String endpoint = (String) path(values, "objectStore", "external", "endpoint");
        String redisSecret = (String) path(values, "redis", "auth", "existingSecret");
        String s3Secret = (String) path(values, "objectStore", "auth", "existingSecret");
        String authSecret = (String) path(values, "auth", "existingSecret");
        ManifestRules rules = rules(objs);
        for (String c : ManifestRules.MATES_COMPONENTS) {
            Map<String, String> env = rules.environment(c);
            assertEquals(endpoint, env.get("MATES_OBJECT_STORE_ENDPOINT"), c);
            assertTrue(env.get("MATES_OBJECT_STORE_ACCESS_KEY").startsWith("secret:" + s3Secret + "/"), c + " " + env);
            if (env.containsKey("MATES_REDIS_PASSWORD")) assertTrue(env.get("MATES_REDIS_PASSWORD").startsWith("secret:" + redisSecret + "/"), c + " " + env);
            ManifestRules.TOKEN_FILES.forEach((variable, key) ->
                    assertEquals(new ManifestRules.SecretFile(authSecret, key), rules.tokenFile(c, variable), c + " " + variable));
        }
    }

    @Test
    void kedaScalesWorkersOnTheStreamTheApplicationUses() {
        ManifestRules.check(render(template("ci/keda-values.yaml"), "ci/keda-values.yaml"),
                new ManifestRules.Expect("helm keda", false, true, "keda", stream, group, true, false));
        ManifestRules.check(render(template("ci/keda-values.yaml", "ci/gpu-values.yaml"), "keda + gpu"),
                new ManifestRules.Expect("helm keda + gpu", true, true, "keda", stream, group, true, false));
        ManifestRules.check(render(template("ci/keda-values.yaml", "ci/external-values.yaml"), "keda + external"),
                new ManifestRules.Expect("helm keda + external", false, false, "keda", stream, group, false, false));
    }

    @Test
    void oneQueueValueFeedsTheWorkersTheTrainerAndKeda() {
        List<Obj> objs = render(template("ci/keda-values.yaml").set("queue.stream", "team-a:shards").set("queue.group", "team-a-scorers"), "custom queue");
        ManifestRules.check(objs, new ManifestRules.Expect("helm custom queue", false, true, "keda", "team-a:shards", "team-a-scorers", true, false));
    }

    @Test
    void defaultQueueValuesAreTheApplicationDefaults() {
        Map<String, Object> values = read(CHART.resolve("values.yaml"));
        assertEquals(stream, path(values, "queue", "stream"));
        assertEquals(group, path(values, "queue", "group"));
    }

    @Test
    void autoscalingCanBeOff() {
        ManifestRules.check(render(template().set("scorer.worker.autoscaling.mode", "none"), "autoscaling none"),
                new ManifestRules.Expect("helm no autoscaling", false, true, "none", stream, group, true, false));
    }

    @Test
    void serviceMonitorScrapesEveryService() {
        List<Obj> objs = render(template().set("serviceMonitor.enabled", "true"), "serviceMonitor.enabled");
        List<ServiceMonitor> monitors = objs.stream().map(Obj::typed).filter(ServiceMonitor.class::isInstance).map(ServiceMonitor.class::cast).toList();
        assertEquals(1, monitors.size());
        ServiceMonitor m = monitors.get(0);
        assertTrue(m.getSpec().getEndpoints().stream().allMatch(e -> "/q/metrics".equals(e.getPath())), "scrapes /q/metrics");
        List<Service> scraped = objs.stream().map(Obj::typed).filter(Service.class::isInstance).map(Service.class::cast)
                .filter(s -> ManifestRules.matches(m.getSpec().getSelector(), s.getMetadata().getLabels())).toList();
        for (String c : ManifestRules.MATES_COMPONENTS) {
            assertTrue(scraped.stream().anyMatch(s -> c.equals(s.getMetadata().getLabels().get(ManifestRules.COMPONENT))), "ServiceMonitor selects the " + c + " Service");
        }
        for (Service s : scraped) {
            String port = m.getSpec().getEndpoints().get(0).getPort();
            assertTrue(s.getSpec().getPorts().stream().anyMatch(p -> port.equals(p.getName())), s.getMetadata().getName() + " has no port named " + port);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"trainer.replicas=2", "scorer.worker.autoscaling.mode=sometimes", "oracleProber.replicas=-1", "scorer.gpu.enabeld=true", "auth.existingSecret=Not_A_Name"})
    void schemaRejectsBadValues(String assignment) {
        String[] kv = assignment.split("=", 2);
        Object value = kv[1].matches("-?[0-9]+") ? (Object) Integer.parseInt(kv[1]) : kv[1];
        Exception e = assertThrows(Exception.class, () -> template().set(kv[0], value).call(), assignment);
        String leaf = kv[0].substring(kv[0].lastIndexOf('.') + 1);
        assertTrue(e.getMessage().contains("schema") && e.getMessage().contains(leaf), assignment + " -> " + e.getMessage());
    }

    private static Secret secret(List<Obj> objs, String name) {
        return objs.stream().map(Obj::typed).filter(Secret.class::isInstance).map(Secret.class::cast)
                .filter(s -> name.equals(s.getMetadata().getName())).findFirst()
                .orElseThrow(() -> new AssertionError("Secret " + name + " is not rendered"));
    }

    private static List<Deployment> deployments(List<Obj> objs) {
        return objs.stream().map(Obj::typed).filter(Deployment.class::isInstance).map(Deployment.class::cast).toList();
    }

    private static ManifestRules.Expect expectAny() {
        return new ManifestRules.Expect("any", false, false, "none", stream, group, true, false);
    }

    private static ManifestRules rules(List<Obj> objs) {
        return ManifestRules.unchecked(objs, expectAny());
    }

    static Path copyChart(Path tmp) throws IOException {
        Path copy = tmp.resolve("mates");
        try (Stream<Path> files = Files.walk(CHART)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = copy.resolve(CHART.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to);
                else Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return copy;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> read(Path f) {
        try {
            Map<String, Object> m = YAML.readValue(f.toFile(), Map.class);
            return m == null ? new LinkedHashMap<>() : m;
        } catch (IOException e) {
            throw new AssertionError(f + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> merge(Map<String, Object> base, Map<String, Object> over) {
        Map<String, Object> out = new LinkedHashMap<>(base);
        over.forEach((k, v) -> {
            if (v instanceof Map<?, ?> vm && out.get(k) instanceof Map<?, ?> bm) out.put(k, merge((Map<String, Object>) bm, (Map<String, Object>) vm));
            else out.put(k, v);
        });
        return out;
    }

    @SuppressWarnings("unchecked")
    static Object path(Map<String, Object> m, String... keys) {
        Object o = m;
        for (String k : keys) o = o instanceof Map<?, ?> mm ? ((Map<String, Object>) mm).get(k) : null;
        return o;
    }
}
