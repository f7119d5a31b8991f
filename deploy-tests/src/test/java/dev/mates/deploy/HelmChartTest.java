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
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
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
    @ValueSource(strings = {"ci/gpu-values.yaml", "ci/external-values.yaml", "ci/keda-values.yaml", "ci/tls-values.yaml", "ci/tls-cert-manager-values.yaml"})
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
        ManifestRules.check(objs, new ManifestRules.Expect("helm default", false, true, "hpa", stream, group, true));
        // the generated credentials are the ones the workloads reference
        var names = objs.stream().filter(o -> o.kind().equals("Secret")).map(Obj::name).sorted().toList();
        assertEquals(List.of("mates-auth", "mates-object-store", "mates-object-store-user", "mates-redis"), names);
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
                new ManifestRules.Expect("helm " + breakage, false, true, "hpa", stream, group, true)));
        assertTrue(e.getMessage().contains(expected), breakage + ": expected '" + expected + "' in\n" + e.getMessage());
    }

    @Test
    void existingAuthSecretIsMountedAndNoneIsGenerated() {
        List<Obj> objs = render(template().set("auth.existingSecret", "team-tokens"), "auth.existingSecret");
        ManifestRules.check(objs, new ManifestRules.Expect("helm existing auth Secret", false, true, "hpa", stream, group, true));
        assertTrue(objs.stream().noneMatch(o -> o.kind().equals("Secret") && o.name().equals("mates-auth")), "mates-auth is rendered although auth.existingSecret is set");
        ManifestRules rules = rules(objs);
        for (String c : ManifestRules.MATES_COMPONENTS) {
            ManifestRules.TOKEN_FILES.forEach((variable, key) ->
                    assertEquals(new ManifestRules.SecretFile("team-tokens", key), rules.tokenFile(c, variable), c + " " + variable));
        }
    }

    /**
     * The bucket Job creates the MinIO user the services log in as, so it is a plain Job, not a Helm hook: a
     * post-install hook would only run after `helm install --wait` saw the (unready) services ready. Its name carries
     * the revision, so an upgrade never patches a Job's immutable pod template.
     */
    @Test
    void bucketJobIsAPlainJobPerRevision() {
        List<Obj> objs = render(template(), "(default values)");
        List<Obj> jobs = objs.stream().filter(o -> o.kind().equals("Job")).toList();
        assertEquals(1, jobs.size(), "one bucket Job");
        Obj job = jobs.get(0);
        assertEquals("mates-bucket-init-1", job.name(), "the Job of revision 1");
        Map<String, String> annotations = job.model().getMetadata().getAnnotations();
        assertTrue(annotations == null || annotations.keySet().stream().noneMatch(k -> k.startsWith("helm.sh/hook")), "the bucket Job is a Helm hook: " + annotations);
    }

    /** Every mates service reads the management port the manifests give it, and has the management interface on. */
    @ParameterizedTest
    @ValueSource(strings = {"trainer", "oracle-prober", "influence-model", "scorer"})
    void servicesListenOnTheManagementPortTheManifestsSet(String service) {
        Properties p = Repo.appProperties(service);
        assertEquals("true", p.getProperty("quarkus.management.enabled"), service + ": quarkus.management.enabled");
        String port = p.getProperty("quarkus.management.port", "");
        assertTrue(port.startsWith("${MATES_MANAGEMENT_PORT:"), service + ": quarkus.management.port is '" + port + "', expected ${MATES_MANAGEMENT_PORT:...}");
        assertTrue(p.getProperty("quarkus.http.port", "").startsWith("${MATES_PORT:"), service + ": quarkus.http.port reads MATES_PORT");
    }

    /** A client namespace: labelled pods there may call the trainer, and nothing else changes. */
    @Test
    void trainerClientsOfAnotherNamespace() {
        List<Obj> objs = render(template().set("networkPolicy.trainerClients.namespaceSelector.matchLabels.team", "ml"), "trainer clients namespace");
        ManifestRules.check(objs, new ManifestRules.Expect("helm trainer clients namespace", false, true, "hpa", stream, group, true));
        NetworkPolicy trainer = objs.stream().map(Obj::typed).filter(NetworkPolicy.class::isInstance).map(NetworkPolicy.class::cast)
                .filter(p -> p.getMetadata().getName().equals("mates-trainer")).findFirst().orElseThrow();
        assertTrue(trainer.getSpec().getIngress().stream().flatMap(r -> r.getFrom().stream()).anyMatch(peer -> peer.getNamespaceSelector() != null
                && Map.of("team", "ml").equals(peer.getNamespaceSelector().getMatchLabels())
                && "true".equals(peer.getPodSelector().getMatchLabels().get(ManifestRules.TRAINER_CLIENT))), "labelled pods of namespaces team=ml may call the trainer");
    }

    /**
     * `helm upgrade --reuse-values` from a release older than managementPort, the stores' service users and
     * networkPolicy.trainerClients renders the new templates with the OLD chart's defaults (Helm replaces the new
     * values.yaml with the old release's values): the rendering must validate and keep every rule.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void upgradeWithReusedOldValuesKeepsTheRules(boolean serviceMonitor, @TempDir Path tmp) throws IOException {
        Path copy = copyChart(tmp);
        Path old = Path.of("src/test/resources/reuse-values/values-before-management-port.yaml");
        if (!Files.exists(old)) old = Repo.ROOT.resolve("deploy-tests").resolve(old);
        Files.copy(old, copy.resolve("values.yaml"), StandardCopyOption.REPLACE_EXISTING);
        List<Obj> objs = Manifests.parse(new Helm(copy).template().withName("mates").withNamespace("mates").withKubeVersion(KUBE_VERSION)
                .set("serviceMonitor.enabled", String.valueOf(serviceMonitor)).call(), "old values");
        ManifestRules.check(objs, new ManifestRules.Expect("helm with the old release's values", false, true, "hpa", stream, group, true));
    }

    @Test
    void managementPortMustDifferFromTheApiPorts() {
        Exception e = assertThrows(Exception.class, () -> template().set("managementPort", 9003).call());
        assertTrue(e.getMessage().contains("managementPort (9003) must differ from scorer.port"), e.getMessage());
    }

    /**
     * The rules on ports, policies and store credentials reject what would break them; the rendering they start from
     * (ServiceMonitor on, so the Prometheus rule is there) passes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"probe", "managementEnv", "serviceMonitor", "prometheusRule", "trainerOpen", "trainerAnyPod", "minioRoot", "redisDefaultUser",
            "redisDangerous", "redisEvicts", "redisUnbounded"})
    void portPolicyAndStoreRulesCatchBreakage(String breakage) {
        String text = template().set("serviceMonitor.enabled", "true").call();
        ManifestRules.Expect expect = new ManifestRules.Expect("helm " + breakage, false, true, "hpa", stream, group, true);
        ManifestRules.check(Manifests.parse(text, "serviceMonitor.enabled"), expect);
        String broken = switch (breakage) {
            case "probe" -> text.replaceFirst("(path: /q/health/live\n +port: )management", "$1grpc");
            case "managementEnv" -> text.replaceFirst("(?m)^  MATES_MANAGEMENT_PORT: \"9090\"\n", "");
            case "serviceMonitor" -> text.replaceFirst("- port: management\n( +)path: /q/metrics", "- port: grpc\n$1path: /q/metrics");
            // the first Prometheus rule is the trainer's: open port 9000 to it as well
            case "prometheusRule" -> text.replaceFirst("(# Prometheus: the management port \\(/q/metrics\\) only\n +- ports:\n)", "$1        - port: 9000\n          protocol: TCP\n");
            case "trainerOpen" -> text.replaceFirst("( +)from:\n +- podSelector:\n +matchLabels:\n +mates.dev/trainer-client: \"true\"\n", "");
            case "trainerAnyPod" -> text.replaceFirst("mates.dev/trainer-client: \"true\"", "app.kubernetes.io/part-of: mates");
            case "minioRoot" -> text.replaceAll("(- name: MATES_OBJECT_STORE_(ACCESS|SECRET)_KEY\n +valueFrom:\n +secretKeyRef:\n +name: )mates-object-store-user", "$1mates-object-store");
            case "redisDefaultUser" -> text.replaceFirst("(- --user\n +- default\n +- )\"off\"", "$1\"on\"");
            case "redisEvicts" -> text.replaceFirst("(- --maxmemory-policy\n +- )noeviction", "$1allkeys-lru");
            case "redisUnbounded" -> text.replaceFirst("(?m)^ +- --maxmemory\n +- \"768mb\"\n", "");
            default -> text.replaceFirst("(?m)^( +)- -@dangerous\n", "");
        };
        assertNotEquals(text, broken, breakage + ": the rendering no longer has what this test breaks");
        String expected = switch (breakage) {
            case "probe" -> "is not the management port";
            case "managementEnv" -> "MATES_MANAGEMENT_PORT is not set";
            case "serviceMonitor" -> "not its management port";
            case "prometheusRule" -> "reaches port(s) [9000] (the gRPC API)";
            case "trainerOpen" -> "ingress from anywhere (a rule without from) reaches port(s)";
            case "trainerAnyPod" -> "no NetworkPolicy admits pods of its namespace labelled mates.dev/trainer-client";
            case "minioRoot" -> "the services get the MinIO root credentials";
            case "redisDefaultUser" -> "the default user is not disabled";
            case "redisEvicts" -> "--maxmemory-policy must be noeviction";
            case "redisUnbounded" -> "no --maxmemory";
            default -> "may run @dangerous commands";
        };
        AssertionError e = assertThrows(AssertionError.class, () -> ManifestRules.check(Manifests.parse(broken, breakage), expect));
        assertTrue(e.getMessage().contains(expected), breakage + ": expected '" + expected + "' in\n" + e.getMessage());
    }

    @Test
    void gpuValuesPutGpusOnScorerWorkersOnly() {
        ManifestRules.check(render(template("ci/gpu-values.yaml"), "ci/gpu-values.yaml"),
                new ManifestRules.Expect("helm gpu", true, true, "hpa", stream, group, true));
    }

    @Test
    void externalStoresUseTheExistingSecretsAndRenderNoStore() {
        List<Obj> objs = render(template("ci/external-values.yaml"), "ci/external-values.yaml");
        ManifestRules.check(objs, new ManifestRules.Expect("helm external", false, false, "hpa", stream, group, false));
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
                new ManifestRules.Expect("helm keda", false, true, "keda", stream, group, true));
        ManifestRules.check(render(template("ci/keda-values.yaml", "ci/gpu-values.yaml"), "keda + gpu"),
                new ManifestRules.Expect("helm keda + gpu", true, true, "keda", stream, group, true));
        ManifestRules.check(render(template("ci/keda-values.yaml", "ci/external-values.yaml"), "keda + external"),
                new ManifestRules.Expect("helm keda + external", false, false, "keda", stream, group, false));
    }

    @Test
    void oneQueueValueFeedsTheWorkersTheTrainerAndKeda() {
        List<Obj> objs = render(template("ci/keda-values.yaml").set("queue.stream", "team-a:shards").set("queue.group", "team-a-scorers"), "custom queue");
        ManifestRules.check(objs, new ManifestRules.Expect("helm custom queue", false, true, "keda", "team-a:shards", "team-a-scorers", true));
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
                new ManifestRules.Expect("helm no autoscaling", false, true, "none", stream, group, true));
    }

    @Test
    void serviceMonitorScrapesEveryService() {
        List<Obj> objs = render(template().set("serviceMonitor.enabled", "true"), "serviceMonitor.enabled");
        ManifestRules.check(objs, new ManifestRules.Expect("helm serviceMonitor", false, true, "hpa", stream, group, true));
        List<ServiceMonitor> monitors = objs.stream().map(Obj::typed).filter(ServiceMonitor.class::isInstance).map(ServiceMonitor.class::cast).toList();
        assertEquals(1, monitors.size());
        ServiceMonitor m = monitors.get(0);
        assertTrue(m.getSpec().getEndpoints().stream().allMatch(e -> "/q/metrics".equals(e.getPath())), "scrapes /q/metrics");
        assertTrue(m.getSpec().getEndpoints().stream().allMatch(e -> ManifestRules.MANAGEMENT.equals(e.getPort())), "scrapes the Service port named management");
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
    @ValueSource(strings = {"trainer.replicas=2", "scorer.worker.autoscaling.mode=sometimes", "oracleProber.replicas=-1", "scorer.gpu.enabeld=true", "auth.existingSecret=Not_A_Name",
            "tls.certManager.duration=90days", "tls.enabeld=true"})
    void schemaRejectsBadValues(String assignment) {
        String[] kv = assignment.split("=", 2);
        Object value = kv[1].matches("-?[0-9]+") ? (Object) Integer.parseInt(kv[1]) : kv[1];
        Exception e = assertThrows(Exception.class, () -> template().set(kv[0], value).call(), assignment);
        String leaf = kv[0].substring(kv[0].lastIndexOf('.') + 1);
        assertTrue(e.getMessage().contains("schema") && e.getMessage().contains(leaf), assignment + " -> " + e.getMessage());
    }

    // ---- TLS on the gRPC ports ----

    private static final List<String> TLS_SETTINGS = List.of("mates.tls.cert-file", "mates.tls.key-file", "mates.tls.ca-file");

    /** Every service reads every TLS file it uses from the Secret, key by key (the CA only where it verifies a peer). */
    private static void assertTlsFilesFrom(List<Obj> objs, String secret) {
        ManifestRules rules = rules(objs);
        for (String c : ManifestRules.MATES_COMPONENTS) {
            for (String setting : TLS_SETTINGS) {
                if (!Repo.tlsFiles(ManifestRules.service(c)).containsKey(setting)) continue;
                assertEquals(new ManifestRules.SecretFile(secret, ManifestRules.TLS_KEYS.get(setting)), rules.tlsFile(c, setting), c + " " + setting);
            }
        }
    }

    private static List<CertManager.Certificate> certificates(List<Obj> objs) {
        return objs.stream().map(Obj::typed).filter(CertManager.Certificate.class::isInstance).map(CertManager.Certificate.class::cast).toList();
    }

    /** The services' own settings: the files the profile tls reads default to the Secret's mount, with its key names. */
    @ParameterizedTest
    @ValueSource(strings = {"trainer", "oracle-prober", "influence-model", "scorer"})
    void tlsProfileReadsTheMountedSecretsFiles(String service) {
        Map<String, String> files = Repo.tlsFiles(service);
        assertTrue(files.containsKey("mates.tls.cert-file") && files.containsKey("mates.tls.key-file"), service + " reads no certificate: " + files);
        files.forEach((setting, path) -> assertEquals(ManifestRules.TLS_DIR + "/" + ManifestRules.TLS_KEYS.get(setting), path, service + " " + setting));
        if (ManifestRules.MUTUAL_TLS.contains(service)) assertTrue(files.containsKey("mates.tls.ca-file"), service + " takes part in mutual TLS but reads no CA");
    }

    @Test
    void tlsWithAnExistingSecret() {
        List<Obj> objs = render(template("ci/tls-values.yaml"), "ci/tls-values.yaml");
        ManifestRules.check(objs, new ManifestRules.Expect("helm tls existing Secret", false, true, "hpa", stream, group, true).withTls());
        String secret = (String) path(read(CHART.resolve("ci/tls-values.yaml")), "tls", "existingSecret");
        assertTlsFilesFrom(objs, secret);
        assertTrue(certificates(objs).isEmpty(), "no Certificate with tls.existingSecret");
        assertTrue(objs.stream().noneMatch(o -> o.kind().equals("Secret") && o.name().equals(secret)), "the chart never renders the TLS Secret");
        // with keda, gpu and external stores as well
        ManifestRules.check(render(template("ci/tls-values.yaml", "ci/keda-values.yaml", "ci/gpu-values.yaml"), "tls + keda + gpu"),
                new ManifestRules.Expect("helm tls + keda + gpu", true, true, "keda", stream, group, true).withTls());
        ManifestRules.check(render(template("ci/tls-values.yaml", "ci/external-values.yaml"), "tls + external"),
                new ManifestRules.Expect("helm tls + external", false, false, "hpa", stream, group, false).withTls());
    }

    @Test
    void tlsWithCertManager() {
        List<Obj> objs = render(template("ci/tls-cert-manager-values.yaml").set("serviceMonitor.enabled", "true"), "ci/tls-cert-manager-values.yaml");
        ManifestRules.check(objs, new ManifestRules.Expect("helm tls cert-manager", false, true, "hpa", stream, group, true).withTls());
        assertTlsFilesFrom(objs, "mates-tls");
        List<CertManager.Certificate> certs = certificates(objs);
        assertEquals(1, certs.size(), "one Certificate for every service");
        var spec = certs.get(0).spec();
        assertEquals("mates-tls", spec.secretName());
        assertEquals(new CertManager.IssuerRef("mates-ca", "Issuer", "cert-manager.io"), spec.issuerRef());
        assertTrue(spec.dnsNames().containsAll(List.of("mates-oracle-prober-headless", "mates-influence-model", "mates-trainer.mates.svc",
                "mates-scorer.mates.svc.cluster.local")), spec.dnsNames().toString());
        assertTrue(spec.usages().containsAll(ManifestRules.TLS_USAGES), spec.usages().toString());
    }

    /** The DNS names follow the release's names and namespace; a Service that is not rendered has none. */
    @Test
    void tlsCertificateNamesFollowTheReleaseAndNamespace() {
        TemplateCommand t = new Helm(CHART).template().withName("foo").withNamespace("ml").withKubeVersion(KUBE_VERSION)
                .withValuesFile(CHART.resolve("ci/tls-cert-manager-values.yaml"))
                .set("tls.certManager.extraDnsNames[0]", "localhost").set("tls.certManager.ipAddresses[0]", "127.0.0.1");
        List<Obj> objs = render(t, "release foo in ml");
        ManifestRules.check(objs, new ManifestRules.Expect("helm tls foo/ml", false, true, "hpa", stream, group, true).withTls());
        var spec = certificates(objs).get(0).spec();
        assertEquals("foo-mates-tls", spec.secretName());
        assertTrue(spec.dnsNames().containsAll(List.of("foo-mates-oracle-prober-headless", "foo-mates-influence-model.ml.svc.cluster.local",
                "foo-mates-scorer.ml.svc", "localhost")), spec.dnsNames().toString());
        assertEquals(List.of("127.0.0.1"), spec.ipAddresses());
        assertTlsFilesFrom(objs, "foo-mates-tls");
        // without the online scorer (which the rules above require) its Service and names are gone
        List<Obj> noScorer = render(t.set("scorer.online.enabled", "false"), "release foo in ml, no online scorer");
        List<String> names = certificates(noScorer).get(0).spec().dnsNames();
        assertTrue(names.contains("foo-mates-scorer-worker") && names.stream().noneMatch(n -> n.equals("foo-mates-scorer") || n.startsWith("foo-mates-scorer.")), names.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "both", "noIssuer"})
    void tlsNeedsExactlyOneCertificateSource(String mistake) {
        TemplateCommand t = template().set("tls.enabled", "true");
        t = switch (mistake) {
            case "none" -> t;
            case "both" -> t.set("tls.existingSecret", "mates-tls").set("tls.certManager.enabled", "true").set("tls.certManager.issuerRef.name", "ca");
            default -> t.set("tls.certManager.enabled", "true");
        };
        String expected = switch (mistake) {
            case "none" -> "tls.enabled is true but no certificate is configured: set tls.existingSecret";
            case "both" -> "tls.existingSecret and tls.certManager.enabled are both set";
            default -> "tls.certManager.issuerRef.name is required";
        };
        TemplateCommand command = t;
        Exception e = assertThrows(Exception.class, command::call, mistake);
        assertTrue(e.getMessage().contains(expected), mistake + " -> " + e.getMessage());
    }

    /** What helm install prints: how clients trust the CA (CLI --tls-ca / MATES_TLS_CA, grpcurl -cacert) and the restart after a renewal. */
    @Test
    void notesTellClientsHowToConnectWithTls() {
        String tls = new Helm(CHART).install().withName("mates").withNamespace("mates").withKubeVersion(KUBE_VERSION).clientOnly()
                .withDryRunOption(com.marcnuri.helm.DryRun.CLIENT).withValuesFile(CHART.resolve("ci/tls-cert-manager-values.yaml"))
                .set("tls.certManager.extraDnsNames[0]", "localhost").call().getOutput();
        for (String s : List.of("--remote localhost:9000 --tls-ca ca.crt", "MATES_TLS_CA", "grpcurl -cacert ca.crt", "{.data.ca\\.crt}",
                "rollout restart deployment -l app.kubernetes.io/instance=mates")) {
            assertTrue(tls.contains(s), "NOTES with TLS lack '" + s + "':\n" + tls);
        }
        String plain = new Helm(CHART).install().withName("mates").withNamespace("mates").withKubeVersion(KUBE_VERSION).clientOnly()
                .withDryRunOption(com.marcnuri.helm.DryRun.CLIENT).call().getOutput();
        assertTrue(plain.contains("--remote 127.0.0.1:9000 --pool") && plain.contains("grpcurl -plaintext") && !plain.contains("--tls-ca"), plain);
    }

    /** The TLS rules reject what would break TLS (the cert-manager rendering they start from passes them). */
    @ParameterizedTest
    @ValueSource(strings = {"profileWithoutTls", "profileWithoutProd", "subPath", "missingCa", "httpsProbe", "httpsScrape", "dnsNames", "clientAuth",
            "pkcs1", "tlsWhereNoneIsExpected"})
    void tlsRulesCatchBreakage(String breakage) {
        String text = template("ci/tls-cert-manager-values.yaml").set("serviceMonitor.enabled", "true").call();
        ManifestRules.Expect expect = new ManifestRules.Expect("helm " + breakage, false, true, "hpa", stream, group, true).withTls();
        ManifestRules.check(Manifests.parse(text, "tls cert-manager"), expect);
        String broken = switch (breakage) {
            case "profileWithoutTls" -> text.replaceFirst("value: \"prod,tls\"", "value: \"prod\"");
            case "profileWithoutProd" -> text.replaceFirst("value: \"prod,tls\"", "value: \"tls\"");
            case "subPath" -> text.replaceFirst("(?m)^( +)- name: tls\n +mountPath: /var/run/mates/tls\n",
                    "$1- name: tls\n$1  mountPath: /var/run/mates/tls/tls.crt\n$1  subPath: tls.crt\n");
            case "missingCa" -> text.replaceFirst("(?m)^ +- key: ca.crt\n +path: ca.crt\n", "");
            case "httpsProbe" -> text.replaceFirst("(path: /q/health/ready\n( +)port: management\n)", "$1$2scheme: HTTPS\n");
            case "httpsScrape" -> text.replaceFirst("scheme: http\n", "scheme: https\n");
            case "dnsNames" -> text.replaceFirst("(?m)^ +- \"mates-oracle-prober-headless\"\n", "");
            case "clientAuth" -> text.replaceFirst("(?m)^ +- client auth\n", "");
            case "pkcs1" -> text.replaceFirst("encoding: PKCS8", "encoding: PKCS1");
            default -> text;
        };
        if (!breakage.equals("tlsWhereNoneIsExpected")) assertNotEquals(text, broken, breakage + ": the rendering no longer has what this test breaks");
        if (breakage.equals("tlsWhereNoneIsExpected")) expect = new ManifestRules.Expect("helm " + breakage, false, true, "hpa", stream, group, true);
        String expected = switch (breakage) {
            case "profileWithoutTls" -> "needs the profile tls";
            case "profileWithoutProd" -> "replaces the packaged default profile prod";
            case "subPath" -> "/var/run/mates/tls/tls.crt is a subPath mount";
            case "missingCa" -> "lacks key ca.crt";
            case "httpsProbe" -> "scheme HTTPS: the management port serves plain HTTP";
            case "httpsScrape" -> "endpoint scheme https";
            case "dnsNames" -> "mates-oracle-prober-headless (the trainer dials dns:///mates-oracle-prober-headless:9001)";
            case "clientAuth" -> "lack client auth";
            case "pkcs1" -> "privateKey.encoding must be PKCS8";
            default -> "turns TLS on (profile tls), but this rendering has no TLS";
        };
        ManifestRules.Expect e2 = expect;
        AssertionError e = assertThrows(AssertionError.class, () -> ManifestRules.check(Manifests.parse(broken, breakage), e2));
        assertTrue(e.getMessage().contains(expected), breakage + ": expected '" + expected + "' in\n" + e.getMessage());
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
