package dev.mates.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mates.deploy.Manifests.Obj;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** k8s/: every overlay renders offline, parses as typed objects and keeps the deployment rules. */
class KustomizeTest {
    private static final Path K8S = Repo.ROOT.resolve("k8s").toAbsolutePath().normalize();
    private static String stream;
    private static String group;

    @BeforeAll
    static void setUp() {
        Assumptions.assumeTrue(Kustomize.command() != null,
                "k8s/ is not checked: neither kustomize nor kubectl is on PATH (install kubectl to render the overlays)");
        Properties scorer = Repo.appProperties("scorer");
        stream = scorer.getProperty("mates.queue.stream");
        group = scorer.getProperty("mates.queue.group");
        assertEquals(stream, Repo.appProperties("trainer").getProperty("mates.queue.stream"), "trainer and scorer must use one stream");
        assertEquals(group, Repo.appProperties("trainer").getProperty("mates.queue.group"), "trainer and scorer must use one group");
    }

    private static List<Obj> render(Path dir) throws Exception {
        return Manifests.parse(Kustomize.render(dir), Repo.ROOT.relativize(dir).toString());
    }

    @Test
    void cpuOverlay() throws Exception {
        List<Obj> objs = render(K8S.resolve("overlays/cpu"));
        ManifestRules.check(objs, new ManifestRules.Expect("k8s/overlays/cpu", false, true, "hpa", stream, group, false));
        Namespace ns = objs.stream().map(Obj::typed).filter(Namespace.class::isInstance).map(Namespace.class::cast).findFirst().orElseThrow();
        assertEquals("restricted", ns.getMetadata().getLabels().get("pod-security.kubernetes.io/enforce"));
        assertTrue(objs.stream().filter(o -> !(o.typed() instanceof Namespace)).allMatch(o -> "mates".equals(o.model().getMetadata().getNamespace())),
                "every namespaced object lands in namespace mates");
    }

    @Test
    void baseIsTheCpuOverlay() throws Exception {
        ManifestRules.check(render(K8S.resolve("base")), new ManifestRules.Expect("k8s/base", false, true, "hpa", stream, group, false));
    }

    @Test
    void gpuOverlayPutsGpusOnScorerWorkersOnly() throws Exception {
        ManifestRules.check(render(K8S.resolve("overlays/gpu")), new ManifestRules.Expect("k8s/overlays/gpu", true, true, "hpa", stream, group, false));
    }

    @Test
    void externalStoresOverlay() throws Exception {
        ManifestRules.check(render(K8S.resolve("overlays/external-stores")),
                new ManifestRules.Expect("k8s/overlays/external-stores", false, false, "hpa", stream, group, false));
    }

    /**
     * The base references its Secrets and never ships them: every Secret and key a pod reads (secretKeyRef, Secret
     * volume) is created by k8s/base/secrets.example.sh and listed in k8s/README.md's Secrets table.
     */
    @Test
    void secretsExampleCreatesEverySecretTheBaseReads() throws Exception {
        Map<String, Set<String>> read = new TreeMap<>();
        for (Obj o : render(K8S.resolve("base"))) {
            PodSpec pod = o.typed() instanceof Deployment d ? d.getSpec().getTemplate().getSpec()
                    : o.typed() instanceof StatefulSet st ? st.getSpec().getTemplate().getSpec()
                    : o.typed() instanceof Job j ? j.getSpec().getTemplate().getSpec() : null;
            if (pod == null) continue;
            for (Container c : ManifestRules.containers(pod)) {
                for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
                    if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                        read.computeIfAbsent(e.getValueFrom().getSecretKeyRef().getName(), k -> new TreeSet<>()).add(e.getValueFrom().getSecretKeyRef().getKey());
                    }
                }
            }
            for (Volume v : pod.getVolumes() == null ? List.<Volume>of() : pod.getVolumes()) {
                if (v.getSecret() == null) continue;
                Set<String> keys = read.computeIfAbsent(v.getSecret().getSecretName(), k -> new TreeSet<>());
                if (v.getSecret().getItems() != null) v.getSecret().getItems().forEach(i -> keys.add(i.getKey()));
            }
        }
        assertTrue(read.containsKey("mates-auth"), "the services read their tokens from Secret mates-auth: " + read);
        String script = Files.readString(K8S.resolve("base/secrets.example.sh"));
        String readme = Files.readString(K8S.resolve("README.md"));
        read.forEach((secret, keys) -> {
            int at = script.indexOf("create secret generic " + secret + " ");
            assertTrue(at >= 0, "k8s/base/secrets.example.sh does not create Secret " + secret);
            int end = script.indexOf("create secret generic", at + 1);
            String command = script.substring(at, end < 0 ? script.length() : end);
            for (String key : keys) assertTrue(command.contains("--from-literal=" + key + "="), "secrets.example.sh: Secret " + secret + " lacks key " + key);
            assertTrue(readme.contains("| `" + secret + "` |"), "k8s/README.md's Secrets table does not list " + secret);
        });
    }

    /**
     * What k8s/README.md tells users to do for trainer clients in another namespace: a peer naming the namespace AND
     * the client label. The rules accept it; the same peer without the label (the whole namespace) they reject.
     */
    @Test
    void trainerClientsOfAnotherNamespace(@TempDir Path tmp) throws Exception {
        String readme = Files.readString(K8S.resolve("README.md"));
        assertTrue(readme.contains("path: /spec/ingress/0/from/-") && readme.contains("mates.dev/trainer-client: \"true\""),
                "k8s/README.md no longer shows the client-namespace patch this test applies");
        for (boolean labelled : List.of(true, false)) {
            Path overlay = Files.createDirectories(tmp.resolve(labelled ? "labelled" : "namespace"));
            Files.writeString(overlay.resolve("kustomization.yaml"), String.join("\n",
                    "resources:",
                    "  - " + overlay.relativize(K8S.resolve("overlays/cpu")),
                    "patches:",
                    "  - target: {kind: NetworkPolicy, name: mates-trainer}",
                    "    patch: |-",
                    "      - op: add",
                    "        path: /spec/ingress/0/from/-",
                    "        value:",
                    "          namespaceSelector:",
                    "            matchLabels:",
                    "              kubernetes.io/metadata.name: ml-pipelines",
                    labelled ? "          podSelector:\n            matchLabels:\n              mates.dev/trainer-client: \"true\"" : "",
                    ""));
            ManifestRules.Expect expect = new ManifestRules.Expect("k8s/overlays/cpu + client namespace", false, true, "hpa", stream, group, false);
            if (labelled) {
                ManifestRules.check(render(overlay), expect);
            } else {
                AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> ManifestRules.check(render(overlay), expect));
                assertTrue(e.getMessage().contains("ingress from namespaces {kubernetes.io/metadata.name=ml-pipelines} (every pod) reaches port(s) [9000]"), e.getMessage());
            }
        }
    }

    /** A kustomization in {@code dir} over {@code resource} with {@code components} (paths under k8s/). */
    private static Path wrap(Path dir, String resource, String... components) throws Exception {
        Files.createDirectories(dir);
        StringBuilder k = new StringBuilder("resources:\n  - " + dir.relativize(K8S.resolve(resource)) + "\ncomponents:\n");
        for (String c : components) k.append("  - ").append(dir.relativize(K8S.resolve(c))).append("\n");
        Files.writeString(dir.resolve("kustomization.yaml"), k.toString());
        return dir;
    }

    /** The tls component alone: every service gets the profile and the user-created Secret mates-tls; nothing else is added. */
    @Test
    void tlsComponentOnTheBase(@TempDir Path tmp) throws Exception {
        List<Obj> objs = render(wrap(tmp.resolve("tls"), "base", "components/tls"));
        ManifestRules.check(objs, new ManifestRules.Expect("k8s/base + components/tls", false, true, "hpa", stream, group, false).withTls());
        ManifestRules rules = ManifestRules.unchecked(objs, new ManifestRules.Expect("any", false, true, "hpa", stream, group, false).withTls());
        for (String c : ManifestRules.MATES_COMPONENTS) {
            Repo.tlsFiles(ManifestRules.service(c)).keySet().forEach(setting ->
                    assertEquals(new ManifestRules.SecretFile("mates-tls", ManifestRules.TLS_KEYS.get(setting)), rules.tlsFile(c, setting), c + " " + setting));
        }
        List<Obj> base = render(K8S.resolve("base"));
        assertEquals(base.size(), objs.size(), "the tls component adds no object (mates-tls is created by the user)");
        assertTrue(objs.stream().noneMatch(o -> o.typed() instanceof CertManager.Certificate));
    }

    /**
     * What k8s/README.md tells users to do: uncomment the tls components (with cert-manager or not, with keda or not) in
     * the overlay they apply. The Certificate of components/tls-cert-manager names every Service the trainer dials.
     */
    @Test
    void tlsComponentsComposeWithEveryOverlay(@TempDir Path tmp) throws Exception {
        String readme = Files.readString(K8S.resolve("README.md"));
        assertTrue(readme.contains("../../components/tls") && readme.contains("kubectl -n mates create secret generic mates-tls --from-file=tls.crt --from-file=tls.key --from-file=ca.crt"),
                "k8s/README.md no longer shows the tls component and the mates-tls Secret");
        int variant = 0;
        for (String overlay : List.of("cpu", "gpu", "external-stores")) {
            for (boolean certManager : List.of(true, false)) {
                for (boolean keda : List.of(false, true)) {
                    Path copy = tmp.resolve("k8s-" + variant++);
                    copyTree(K8S, copy);
                    Path k = copy.resolve("overlays/" + overlay + "/kustomization.yaml");
                    String text = Files.readString(k);
                    String on = text.replace("# components:\n", "components:\n").replace("#   - ../../components/tls ", "  - ../../components/tls ");
                    if (certManager) on = on.replace("#   - ../../components/tls-cert-manager ", "  - ../../components/tls-cert-manager ");
                    if (keda) on = on.replace("#   - ../../components/keda", "  - ../../components/keda");
                    assertNotEquals(text, on, overlay + "/kustomization.yaml no longer has the commented tls component the README describes");
                    Files.writeString(k, on);
                    String label = "k8s/overlays/" + overlay + " + components/tls" + (certManager ? " + tls-cert-manager" : "") + (keda ? " + keda" : "");
                    List<Obj> objs = render(k.getParent());
                    ManifestRules.check(objs, new ManifestRules.Expect(label, overlay.equals("gpu"), !overlay.equals("external-stores"), keda ? "keda" : "hpa",
                            stream, group, false).withTls());
                    long certs = objs.stream().filter(o -> o.typed() instanceof CertManager.Certificate).count();
                    assertEquals(certManager ? 1 : 0, certs, label + ": Certificates");
                }
            }
        }
    }

    /** The rules catch a Certificate of the component that misses a name the trainer dials. */
    @Test
    void tlsCertificateRuleCatchesAMissingName(@TempDir Path tmp) throws Exception {
        String text = Kustomize.render(wrap(tmp.resolve("tls"), "overlays/cpu", "components/tls", "components/tls-cert-manager"));
        ManifestRules.Expect expect = new ManifestRules.Expect("k8s/overlays/cpu + tls", false, true, "hpa", stream, group, false).withTls();
        ManifestRules.check(Manifests.parse(text, "cpu + tls"), expect);
        String broken = text.replaceFirst("(?m)^ +- mates-influence-model\n", "");
        assertNotEquals(text, broken);
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> ManifestRules.check(Manifests.parse(broken, "broken"), expect));
        assertTrue(e.getMessage().contains("mates-influence-model (the trainer dials mates-influence-model:9002)"), e.getMessage());
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path t = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(t);
                else Files.copy(f, t);
            }
        }
    }

    /** What k8s/README.md tells users to do: uncomment the keda component in the overlay they apply. */
    @Test
    void kedaComponentScalesWorkersOnTheApplicationsStream(@TempDir Path tmp) throws Exception {
        Path copy = tmp.resolve("k8s");
        try (Stream<Path> files = Files.walk(K8S)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path to = copy.resolve(K8S.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to);
                else Files.copy(f, to);
            }
        }
        for (String overlay : List.of("cpu", "gpu", "external-stores")) {
            Path k = copy.resolve("overlays/" + overlay + "/kustomization.yaml");
            String text = Files.readString(k);
            String on = text.replace("# components:\n#   - ../../components/keda", "components:\n  - ../../components/keda");
            assertNotEquals(text, on, overlay + "/kustomization.yaml no longer has the commented keda component the README describes");
            Files.writeString(k, on);
            ManifestRules.check(render(k.getParent()), new ManifestRules.Expect("k8s/overlays/" + overlay + " + components/keda",
                    overlay.equals("gpu"), !overlay.equals("external-stores"), "keda", stream, group, false));
        }
    }
}
