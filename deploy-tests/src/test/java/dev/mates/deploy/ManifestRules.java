package dev.mates.deploy;

import dev.mates.deploy.Manifests.Obj;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.Endpoint;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rules every rendering of mates (kustomize overlay or Helm values) must satisfy. All failures are collected
 * and reported together, each naming the object.
 */
final class ManifestRules {
    static final String COMPONENT = "app.kubernetes.io/component";
    static final List<String> MATES_COMPONENTS = List.of("trainer", "oracle-prober", "influence-model", "scorer", "scorer-worker");
    static final String GPU = "nvidia.com/gpu";
    /**
     * MATES_* variables that are not config keys: the two ports (quarkus.http.port and quarkus.management.port read
     * them) and the username and password the Redis URI is built from.
     */
    private static final Set<String> NON_KEY_ENV = Set.of("MATES_PORT", "MATES_MANAGEMENT_PORT", "MATES_REDIS_USERNAME", "MATES_REDIS_PASSWORD");
    /** The name of the container port of the Quarkus management interface (/q/health/*, /q/metrics). */
    static final String MANAGEMENT = "management";
    /** The label a pod needs to call the trainer's API, and the online scorer's. */
    static final String TRAINER_CLIENT = "mates.dev/trainer-client";
    static final String SCORER_CLIENT = "mates.dev/scorer-client";
    /** What the services' MinIO user may do in its bucket (the bucket Job's policy), and nothing else. */
    static final Set<String> SERVICE_S3_ACTIONS = Set.of("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
            "s3:ListBucket", "s3:GetBucketLocation");
    /** The MATES_* variables a service understands: its config keys in env form, and those above. */
    private static final Set<String> KNOWN_ENV = knownEnv();
    /**
     * The token files every service container gets (env var → key of the auth Secret): the services read their
     * bearer tokens from files (mates.auth.token-file / internal-token-file), one token per line.
     */
    static final Map<String, String> TOKEN_FILES = Map.of("MATES_AUTH_TOKEN_FILE", "token", "MATES_AUTH_INTERNAL_TOKEN_FILE", "internal-token");
    /** Fewest characters of a token a rendering ships (what `openssl rand -hex 16` makes; the chart makes 64). */
    static final int MIN_TOKEN_CHARS = 32;
    /** The Quarkus profile that turns TLS on (the services' %tls. settings), and the packaged default it goes with. */
    static final String TLS_PROFILE = "tls";
    static final String PROD_PROFILE = "prod";
    /** Where the TLS Secret is mounted: the services' default mates.tls.* files are there. */
    static final String TLS_DIR = "/var/run/mates/tls";
    /** The TLS settings → the key of a cert-manager Secret (kubernetes.io/tls + ca.crt) each must be. */
    static final Map<String, String> TLS_KEYS = Map.of("mates.tls.cert-file", "tls.crt", "mates.tls.key-file", "tls.key", "mates.tls.ca-file", "ca.crt");
    /** Services that require a client certificate (so read ca.crt), and the trainer, which presents one (and trusts ca.crt). */
    static final Set<String> MUTUAL_TLS = Set.of("trainer", "oracle-prober", "influence-model");
    /** The extended key usages the one certificate of every service needs: server certificate and the trainer's client certificate. */
    static final List<String> TLS_USAGES = List.of("server auth", "client auth");
    /** The mode of a Secret volume's files when neither defaultMode nor the item's mode is set. */
    private static final int SECRET_DEFAULT_MODE = 0644;

    private static Set<String> knownEnv() {
        Set<String> known = new java.util.HashSet<>(NON_KEY_ENV);
        for (String k : Repo.configKeys()) known.add(Repo.envName(k));
        return Set.copyOf(known);
    }

    /** What a rendering is expected to be. {@code tls}: the gRPC ports serve TLS (profile tls), else they must not. */
    record Expect(String label, boolean gpu, boolean bundledStores, String autoscaling, String stream, String group,
                  boolean generatedSecretsAllowed, boolean bucketJob, boolean tls) {
        Expect(String label, boolean gpu, boolean bundledStores, String autoscaling, String stream, String group,
               boolean generatedSecretsAllowed, boolean bucketJob) {
            this(label, gpu, bundledStores, autoscaling, stream, group, generatedSecretsAllowed, bucketJob, false);
        }

        /** The bucket Job is rendered with the bundled stores (a plain Job, in the chart too: no Helm hook). */
        Expect(String label, boolean gpu, boolean bundledStores, String autoscaling, String stream, String group,
               boolean generatedSecretsAllowed) {
            this(label, gpu, bundledStores, autoscaling, stream, group, generatedSecretsAllowed, bundledStores);
        }

        /** The same expectation with TLS on the gRPC ports. */
        Expect withTls() {
            return new Expect(label + " (tls)", gpu, bundledStores, autoscaling, stream, group, generatedSecretsAllowed, bucketJob, true);
        }
    }

    /** A pod-owning workload. */
    record Workload(Obj obj, PodTemplateSpec template, Integer replicas) {
        String component() {
            Map<String, String> l = template.getMetadata() == null ? null : template.getMetadata().getLabels();
            return l == null ? null : l.get(COMPONENT);
        }

        PodSpec pod() {
            return template.getSpec();
        }
    }

    private final List<Obj> objs;
    private final Expect expect;
    private final List<String> fails = new ArrayList<>();
    private final List<Workload> workloads = new ArrayList<>();

    private ManifestRules(List<Obj> objs, Expect expect) {
        this.objs = objs;
        this.expect = expect;
        for (Obj o : objs) {
            if (o.typed() instanceof Deployment d) workloads.add(new Workload(o, d.getSpec().getTemplate(), d.getSpec().getReplicas()));
            if (o.typed() instanceof StatefulSet s) workloads.add(new Workload(o, s.getSpec().getTemplate(), s.getSpec().getReplicas()));
            if (o.typed() instanceof Job j) workloads.add(new Workload(o, j.getSpec().getTemplate(), null));
        }
    }

    /** The rules over these objects, unchecked: to read a workload's effective environment. */
    static ManifestRules unchecked(List<Obj> objs, Expect expect) {
        return new ManifestRules(objs, expect);
    }

    /** Checks every rule; throws one AssertionError listing every failure. */
    static void check(List<Obj> objs, Expect expect) {
        ManifestRules r = new ManifestRules(objs, expect);
        r.run();
        if (!r.fails.isEmpty()) {
            throw new AssertionError(expect.label() + ": " + r.fails.size() + " rule(s) broken:\n  - " + String.join("\n  - ", r.fails));
        }
    }

    private void fail(String msg) {
        fails.add(msg);
    }

    <T> List<T> all(Class<T> type) {
        return objs.stream().map(Obj::typed).filter(type::isInstance).map(type::cast).toList();
    }

    Workload workload(String component) {
        List<Workload> w = workloads.stream().filter(x -> component.equals(x.component())).toList();
        if (w.size() != 1) throw new AssertionError(expect.label() + ": expected one workload with " + COMPONENT + "=" + component + ", found " + w.size());
        return w.get(0);
    }

    private void run() {
        for (String c : MATES_COMPONENTS) workload(c); // each exists once
        if (expect.bundledStores()) {
            workload("redis");
            workload("minio");
            if (expect.bucketJob()) workload("bucket-init");
        } else {
            for (Workload w : workloads) {
                if (Set.of("redis", "minio", "bucket-init").contains(w.component())) fail(w.obj() + ": external stores, yet a bundled " + w.component() + " is rendered");
            }
        }
        workloads.forEach(this::security);
        workloads.forEach(this::resources);
        for (String c : MATES_COMPONENTS) {
            Workload w = workload(c);
            probes(w);
            serviceAccount(w);
            env(w);
            tokenFiles(w);
            managementPort(w);
            tls(w);
        }
        certificates();
        trainer();
        services();
        networkPolicies();
        monitoring();
        objectStoreUser();
        redisAcl();
        pdb();
        gpu();
        autoscaling();
        secrets();
    }

    // ---- pods ----

    private void security(Workload w) {
        PodSpec pod = w.pod();
        PodSecurityContext psc = pod.getSecurityContext();
        boolean podNonRoot = psc != null && Boolean.TRUE.equals(psc.getRunAsNonRoot());
        if (psc == null || psc.getSeccompProfile() == null || !"RuntimeDefault".equals(psc.getSeccompProfile().getType())) {
            fail(w.obj() + ": pod securityContext.seccompProfile.type must be RuntimeDefault");
        }
        if (psc != null && psc.getRunAsUser() != null && psc.getRunAsUser() == 0) fail(w.obj() + ": pod runs as uid 0");
        for (Container c : containers(pod)) {
            String where = w.obj() + " container " + c.getName();
            SecurityContext sc = c.getSecurityContext();
            if (sc == null) {
                fail(where + ": no securityContext");
                continue;
            }
            if (!podNonRoot && !Boolean.TRUE.equals(sc.getRunAsNonRoot())) fail(where + ": runAsNonRoot is not true (pod or container)");
            if (sc.getRunAsUser() != null && sc.getRunAsUser() == 0) fail(where + ": runs as uid 0");
            if (!Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation())) fail(where + ": allowPrivilegeEscalation must be false");
            if (!Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem())) fail(where + ": readOnlyRootFilesystem must be true");
            if (Boolean.TRUE.equals(sc.getPrivileged())) fail(where + ": privileged");
            if (sc.getCapabilities() == null || sc.getCapabilities().getDrop() == null || !sc.getCapabilities().getDrop().contains("ALL")) {
                fail(where + ": capabilities.drop must contain ALL");
            } else if (sc.getCapabilities().getAdd() != null && !sc.getCapabilities().getAdd().isEmpty()) {
                fail(where + ": adds capabilities " + sc.getCapabilities().getAdd());
            }
            boolean tmp = c.getVolumeMounts() != null && c.getVolumeMounts().stream().anyMatch(m -> "/tmp".equals(m.getMountPath()));
            if (!tmp) fail(where + ": read-only root filesystem but nothing writable mounted at /tmp");
            String image = c.getImage();
            if (image == null || !image.contains(":") || image.endsWith(":latest")) fail(where + ": image '" + image + "' needs a pinned tag");
        }
    }

    private void resources(Workload w) {
        for (Container c : containers(w.pod())) {
            String where = w.obj() + " container " + c.getName();
            var r = c.getResources();
            for (String kind : List.of("cpu", "memory")) {
                if (r == null || r.getRequests() == null || r.getRequests().get(kind) == null) fail(where + ": no resources.requests." + kind);
                if (r == null || r.getLimits() == null || r.getLimits().get(kind) == null) fail(where + ": no resources.limits." + kind);
            }
        }
    }

    private void probes(Workload w) {
        Container c = main(w);
        check(w, c, "startupProbe", c.getStartupProbe(), "/q/health/started");
        check(w, c, "livenessProbe", c.getLivenessProbe(), "/q/health/live");
        check(w, c, "readinessProbe", c.getReadinessProbe(), "/q/health/ready");
    }

    private void check(Workload w, Container c, String name, Probe p, String path) {
        String where = w.obj() + " container " + c.getName() + " " + name;
        if (p == null || p.getHttpGet() == null) {
            fail(where + ": missing (httpGet " + path + ")");
            return;
        }
        HTTPGetAction g = p.getHttpGet();
        if (!path.equals(g.getPath())) fail(where + ": path " + g.getPath() + ", expected " + path);
        if (g.getScheme() != null && !"HTTP".equals(g.getScheme())) {
            fail(where + ": scheme " + g.getScheme() + ": the management port serves plain HTTP (TLS covers the gRPC port only); use scheme HTTP");
        }
        ContainerPort target = port(c, g.getPort());
        String named = g.getPort() == null ? "(none)" : g.getPort().getStrVal() != null ? g.getPort().getStrVal() : String.valueOf(g.getPort().getIntVal());
        if (target == null) {
            fail(where + ": port " + named + " is not a port of the container");
        } else if (!MANAGEMENT.equals(target.getName())) {
            fail(where + ": port " + named + " is not the management port (the container port named " + MANAGEMENT
                    + "): /q/health is served on the Quarkus management interface only, the gRPC port answers no /q/* path");
        }
    }

    /** The container port named {@link #MANAGEMENT}, or null. */
    static ContainerPort managementPort(Container c) {
        return c.getPorts() == null ? null : c.getPorts().stream().filter(p -> MANAGEMENT.equals(p.getName())).findFirst().orElse(null);
    }

    /**
     * Health and metrics are on their own port: a container port named management, which MATES_MANAGEMENT_PORT
     * (quarkus.management.port) makes the service listen on, distinct from the gRPC port MATES_PORT.
     */
    private void managementPort(Workload w) {
        Container c = main(w);
        String where = w.obj() + " container " + c.getName();
        ContainerPort m = managementPort(c);
        Map<String, String> env = environment(w, c);
        String v = env.get("MATES_MANAGEMENT_PORT");
        if (m == null) fail(where + ": no container port named " + MANAGEMENT + " (the Quarkus management interface: /q/health, /q/metrics)");
        if (v == null) {
            fail(where + ": MATES_MANAGEMENT_PORT is not set: the service would serve health and metrics on its built-in default, not on the declared port");
            return;
        }
        if (m != null && !v.equals(String.valueOf(m.getContainerPort()))) {
            fail(where + ": MATES_MANAGEMENT_PORT " + v + " is not the containerPort " + m.getContainerPort() + " named " + MANAGEMENT);
        }
        if (v.equals(env.get("MATES_PORT"))) fail(where + ": MATES_MANAGEMENT_PORT equals MATES_PORT (" + v + "): health and metrics need a port of their own");
    }

    /** The gRPC API port (MATES_PORT) of a service, or null. */
    private Integer apiPort(Workload w) {
        String v = environment(w, main(w)).get("MATES_PORT");
        return v == null || !v.matches("[0-9]+") ? null : Integer.valueOf(v);
    }

    /** The management port of a service, or null. */
    private static Integer mgmtPort(Workload w) {
        ContainerPort m = managementPort(main(w));
        return m == null ? null : m.getContainerPort();
    }

    private void serviceAccount(Workload w) {
        PodSpec pod = w.pod();
        String sa = pod.getServiceAccountName();
        if (sa == null) {
            fail(w.obj() + ": no serviceAccountName (would run as the namespace's default account)");
            return;
        }
        ServiceAccount account = all(ServiceAccount.class).stream().filter(s -> s.getMetadata().getName().equals(sa)).findFirst().orElse(null);
        if (account == null) fail(w.obj() + ": ServiceAccount " + sa + " is not rendered");
        boolean off = Boolean.FALSE.equals(pod.getAutomountServiceAccountToken())
                || pod.getAutomountServiceAccountToken() == null && account != null && Boolean.FALSE.equals(account.getAutomountServiceAccountToken());
        if (!off) fail(w.obj() + ": the API token is mounted (automountServiceAccountToken must be false: mates never calls the API)");
    }

    // ---- configuration ----

    /** The environment a container sees: envFrom ConfigMaps, then env (value, or secret:NAME/KEY for secretKeyRef). */
    Map<String, String> environment(Workload w, Container c) {
        Map<String, String> env = new LinkedHashMap<>();
        if (c.getEnvFrom() != null) {
            for (EnvFromSource f : c.getEnvFrom()) {
                if (f.getConfigMapRef() != null) {
                    ConfigMap cm = all(ConfigMap.class).stream().filter(m -> m.getMetadata().getName().equals(f.getConfigMapRef().getName())).findFirst().orElse(null);
                    if (cm == null) {
                        fail(w.obj() + ": envFrom ConfigMap " + f.getConfigMapRef().getName() + " is not rendered");
                    } else if (cm.getData() != null) {
                        String prefix = f.getPrefix() == null ? "" : f.getPrefix();
                        cm.getData().forEach((k, v) -> env.put(prefix + k, v));
                    }
                }
                if (f.getSecretRef() != null) fail(w.obj() + ": envFrom a whole Secret: reference keys one by one");
            }
        }
        if (c.getEnv() != null) {
            for (EnvVar e : c.getEnv()) {
                if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                    env.put(e.getName(), "secret:" + e.getValueFrom().getSecretKeyRef().getName() + "/" + e.getValueFrom().getSecretKeyRef().getKey());
                } else if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
                    env.put(e.getName(), "configmap:" + e.getValueFrom().getConfigMapKeyRef().getName() + "/" + e.getValueFrom().getConfigMapKeyRef().getKey());
                } else {
                    env.put(e.getName(), e.getValue() == null ? "" : e.getValue());
                }
            }
        }
        return env;
    }

    Map<String, String> environment(String component) {
        Workload w = workload(component);
        return environment(w, main(w));
    }

    private void env(Workload w) {
        Container c = main(w);
        Map<String, String> env = environment(w, c);
        String where = w.obj() + " container " + c.getName();
        for (String name : env.keySet()) {
            if (name.startsWith("MATES_") && !KNOWN_ENV.contains(name)) {
                fail(where + ": env " + name + " matches no configuration key of the services (typo? see docs/operations.md)");
            }
        }
        for (String secret : List.of("MATES_OBJECT_STORE_ACCESS_KEY", "MATES_OBJECT_STORE_SECRET_KEY")) {
            String v = env.get(secret);
            if (v == null || !v.startsWith("secret:")) fail(where + ": " + secret + " must come from a Secret (secretKeyRef), is " + v);
        }
        String endpoint = env.get("MATES_OBJECT_STORE_ENDPOINT");
        if (endpoint == null || !endpoint.matches("https?://[^/]+.*")) fail(where + ": MATES_OBJECT_STORE_ENDPOINT is " + endpoint);
        if (w.component().startsWith("scorer") || w.component().equals("trainer")) {
            String pw = env.get("MATES_REDIS_PASSWORD");
            if (pw == null || !pw.startsWith("secret:")) fail(where + ": MATES_REDIS_PASSWORD must come from a Secret, is " + pw);
            String uri = env.get("MATES_REDIS_URI");
            if (uri == null || !uri.startsWith("redis") || !uri.contains("$(MATES_REDIS_PASSWORD)")) {
                fail(where + ": MATES_REDIS_URI must be composed with $(MATES_REDIS_PASSWORD), is " + uri);
            }
            List<String> order = c.getEnv() == null ? List.of() : c.getEnv().stream().map(EnvVar::getName).toList();
            if (order.indexOf("MATES_REDIS_URI") >= 0 && order.indexOf("MATES_REDIS_PASSWORD") > order.indexOf("MATES_REDIS_URI")) {
                fail(where + ": MATES_REDIS_PASSWORD must be declared before MATES_REDIS_URI ($(VAR) only expands earlier variables)");
            }
            if (uri != null && uri.contains("$(MATES_REDIS_USERNAME)") && (order.indexOf("MATES_REDIS_USERNAME") < 0
                    || order.indexOf("MATES_REDIS_USERNAME") > order.indexOf("MATES_REDIS_URI"))) {
                fail(where + ": MATES_REDIS_URI uses $(MATES_REDIS_USERNAME), which must be an env entry declared before it");
            }
            if (!expect.stream().equals(env.get("MATES_QUEUE_STREAM"))) fail(where + ": MATES_QUEUE_STREAM is " + env.get("MATES_QUEUE_STREAM") + ", expected " + expect.stream());
            if (!expect.group().equals(env.get("MATES_QUEUE_GROUP"))) fail(where + ": MATES_QUEUE_GROUP is " + env.get("MATES_QUEUE_GROUP") + ", expected " + expect.group());
        }
        String port = env.get("MATES_PORT");
        if (port != null && port(c, new IntOrString(Integer.parseInt(port))) == null) fail(where + ": MATES_PORT " + port + " is not a container port");
        if (w.component().equals("scorer") && !"0".equals(env.get("MATES_SCORER_WORKERS"))) {
            fail(where + ": the online scorer must not consume the queue (MATES_SCORER_WORKERS=0), is " + env.get("MATES_SCORER_WORKERS"));
        }
        if (w.component().equals("scorer-worker")) {
            String n = env.get("MATES_SCORER_WORKERS");
            if (n == null || !n.matches("[1-9][0-9]*")) fail(where + ": scorer workers need MATES_SCORER_WORKERS >= 1, is " + n);
        }
    }

    /** A key of a Secret, as a file of a container. */
    record SecretFile(String secret, String key) {}

    /**
     * Both token files of every container of a service are files of a Secret volume mounted as a directory (a
     * subPath mount would never see a rotated Secret), under the keys TOKEN_FILES names, readable by the service
     * user through the pod's fsGroup and by nobody else; a rendered Secret they come from holds real tokens.
     */
    private void tokenFiles(Workload w) {
        for (Container c : w.pod().getContainers()) {
            String where = w.obj() + " container " + c.getName();
            Map<String, String> env = environment(w, c);
            TOKEN_FILES.forEach((variable, key) -> {
                List<String> problems = new ArrayList<>();
                SecretFile f = secretFile(w, c, env.get(variable), problems);
                problems.forEach(p -> fail(where + ": " + variable + " " + p));
                if (f == null) return;
                if (!key.equals(f.key())) fail(where + ": " + variable + " is key " + f.key() + " of Secret " + f.secret() + ", expected key " + key);
                Secret rendered = all(Secret.class).stream().filter(s -> s.getMetadata().getName().equals(f.secret())).findFirst().orElse(null);
                if (rendered != null) {
                    String value = secretValue(rendered, f.key());
                    if (value == null || value.strip().length() < MIN_TOKEN_CHARS) {
                        fail("Secret " + f.secret() + ": key " + f.key() + " (" + variable + ") must hold a token of at least " + MIN_TOKEN_CHARS
                                + " characters, has " + (value == null ? "none" : value.strip().length()));
                    }
                }
            });
        }
    }

    /** The Secret key the file {@code path} of container {@code c} is, or null (then {@code problems} says why). */
    static SecretFile secretFile(Workload w, Container c, String path, List<String> problems) {
        if (path == null || path.isEmpty()) {
            problems.add("is not set (the service refuses to start without its token files)");
            return null;
        }
        if (!path.startsWith("/") || path.contains("$(")) {
            problems.add("is '" + path + "': expected an absolute path to a mounted file");
            return null;
        }
        VolumeMount mount = null;
        List<VolumeMount> mounts = c.getVolumeMounts() == null ? List.of() : c.getVolumeMounts();
        for (VolumeMount m : mounts) {
            String dir = m.getMountPath().replaceFirst("/+$", "");
            boolean covers = path.equals(dir) || path.startsWith(dir + "/");
            if (covers && (mount == null || dir.length() > mount.getMountPath().replaceFirst("/+$", "").length())) mount = m;
        }
        if (mount == null) {
            problems.add(path + " is in no volume mounted into the container");
            return null;
        }
        if (mount.getSubPath() != null && !mount.getSubPath().isEmpty() || mount.getSubPathExpr() != null && !mount.getSubPathExpr().isEmpty()) {
            problems.add(path + " is a subPath mount of volume " + mount.getName() + ": Kubernetes never updates it, so a rotated token or renewed certificate would not arrive; mount the directory");
            return null;
        }
        String dir = mount.getMountPath().replaceFirst("/+$", "");
        if (dir.equals(path)) {
            problems.add(path + " is the mount point of volume " + mount.getName() + ", not a file inside it");
            return null;
        }
        String name = mount.getName();
        Volume v = w.pod().getVolumes() == null ? null : w.pod().getVolumes().stream().filter(x -> x.getName().equals(name)).findFirst().orElse(null);
        if (v == null) {
            problems.add(path + ": volume " + name + " is mounted but not defined in the pod");
            return null;
        }
        if (v.getSecret() == null || v.getSecret().getSecretName() == null) {
            problems.add(path + ": volume " + name + " is not a Secret volume (tokens and keys are secrets)");
            return null;
        }
        var secret = v.getSecret();
        if (Boolean.TRUE.equals(secret.getOptional())) problems.add(path + ": Secret volume " + name + " is optional: a missing Secret must stop the pod");
        String rel = path.substring(dir.length() + 1);
        String key = null;
        Integer mode = secret.getDefaultMode();
        if (secret.getItems() != null && !secret.getItems().isEmpty()) {
            for (var item : secret.getItems()) {
                if (rel.equals(item.getPath())) {
                    key = item.getKey();
                    if (item.getMode() != null) mode = item.getMode();
                }
            }
        } else if (!rel.contains("/")) {
            key = rel;
        }
        if (key == null) {
            problems.add(path + ": no key of Secret " + secret.getSecretName() + " is mounted as " + rel + " in volume " + name);
            return null;
        }
        int m = mode == null ? SECRET_DEFAULT_MODE : mode;
        if ((m & 07) != 0) problems.add(path + ": mode 0" + Integer.toOctalString(m) + " lets any user in the container read the file; use 0440 (or 0400)");
        // Secret files are owned by root; with an fsGroup the kubelet gives that group read access (mode | 0440),
        // and every container of the pod runs with it as a supplementary group.
        PodSecurityContext psc = w.pod().getSecurityContext();
        if (psc == null || psc.getFsGroup() == null) {
            problems.add(path + ": the pod sets no fsGroup, so the non-root service user cannot read the root-owned Secret file");
        }
        return new SecretFile(secret.getSecretName(), key);
    }

    /** A key of a rendered Secret, decoded (data is base64, stringData plain); null if absent or not base64. */
    static String secretValue(Secret s, String key) {
        if (s.getStringData() != null && s.getStringData().get(key) != null) return s.getStringData().get(key);
        if (s.getData() == null || s.getData().get(key) == null) return null;
        try {
            return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Where a service's token file comes from (env var of TOKEN_FILES), for the tests; null if it comes from no Secret file. */
    SecretFile tokenFile(String component, String variable) {
        Workload w = workload(component);
        Container c = main(w);
        return secretFile(w, c, environment(w, c).get(variable), new ArrayList<>());
    }

    /** The service whose image (and application.properties) a component runs. */
    static String service(String component) {
        return component.equals("scorer-worker") ? "scorer" : component;
    }

    /** The profiles of QUARKUS_PROFILE (comma-separated; empty when unset: the packaged default, prod). */
    static List<String> profiles(String value) {
        if (value == null || value.isBlank()) return List.of();
        return java.util.Arrays.stream(value.split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList();
    }

    /** The file a TLS setting names in a container: its env var (MATES_TLS_CERT_FILE, ...) or the service's default. */
    private static String tlsPath(Map<String, String> env, String component, String setting) {
        String v = env.get(Repo.envName(setting));
        return v != null ? v : Repo.tlsFiles(service(component)).get(setting);
    }

    /**
     * TLS on the gRPC port: with TLS expected, every service container runs the profiles prod (the packaged default,
     * which a QUARKUS_PROFILE replaces) and tls, and every PEM file the service reads (its mates.tls.* settings: cert
     * and key everywhere, the CA where mutual TLS is involved) is the right key of a Secret volume mounted as a
     * directory at /var/run/mates/tls, a volume that carries all three keys. Without TLS, no container has the tls
     * profile (it would serve TLS without its files, or callers would speak plaintext to it).
     */
    private void tls(Workload w) {
        String c = w.component();
        Map<String, String> defaults = Repo.tlsFiles(service(c));
        for (Container ct : w.pod().getContainers()) {
            String where = w.obj() + " container " + ct.getName();
            Map<String, String> env = environment(w, ct);
            String value = env.get("QUARKUS_PROFILE");
            List<String> profiles = profiles(value);
            if (!expect.tls()) {
                if (profiles.contains(TLS_PROFILE)) fail(where + ": QUARKUS_PROFILE " + value + " turns TLS on (profile " + TLS_PROFILE + "), but this rendering has no TLS");
                continue;
            }
            if (!profiles.contains(TLS_PROFILE)) fail(where + ": QUARKUS_PROFILE is " + value + ": TLS on the gRPC port needs the profile " + TLS_PROFILE + " (QUARKUS_PROFILE=prod,tls)");
            if (!profiles.isEmpty() && !profiles.contains(PROD_PROFILE)) {
                fail(where + ": QUARKUS_PROFILE is " + value + ": it replaces the packaged default profile " + PROD_PROFILE + ", which must stay (QUARKUS_PROFILE=prod,tls)");
            }
            for (String needed : List.of("mates.tls.cert-file", "mates.tls.key-file")) {
                if (!defaults.containsKey(needed)) fail(where + ": services/" + service(c) + "/application.properties no longer reads " + needed + ": update the TLS rules");
            }
            if (MUTUAL_TLS.contains(c) && !defaults.containsKey("mates.tls.ca-file")) {
                fail(where + ": services/" + service(c) + "/application.properties reads no mates.tls.ca-file, yet " + c + " takes part in mutual TLS");
            }
            String secret = null;
            for (String setting : new TreeSet<>(defaults.keySet())) {
                String path = tlsPath(env, c, setting);
                List<String> problems = new ArrayList<>();
                SecretFile f = secretFile(w, ct, path, problems);
                problems.forEach(p -> fail(where + ": " + setting + " " + p));
                if (f == null) continue;
                String key = TLS_KEYS.get(setting);
                if (key != null && !key.equals(f.key())) fail(where + ": " + setting + " (" + path + ") is key " + f.key() + " of Secret " + f.secret() + ", expected key " + key);
                if (secret != null && !secret.equals(f.secret())) fail(where + ": the TLS files come from two Secrets, " + secret + " and " + f.secret() + ": a certificate, its key and its CA belong together");
                secret = f.secret();
            }
            String cert = tlsPath(env, c, "mates.tls.cert-file");
            if (cert != null && !cert.startsWith(TLS_DIR + "/")) fail(where + ": the certificate is " + cert + ", expected under " + TLS_DIR);
            if (secret != null) tlsVolume(w, where, secret);
        }
    }

    /** The TLS Secret's volume carries tls.crt, tls.key and ca.crt (items listed: a Secret missing one stops the pod); a rendered TLS Secret has them. */
    private void tlsVolume(Workload w, String where, String secret) {
        for (Volume v : w.pod().getVolumes()) {
            if (v.getSecret() == null || !secret.equals(v.getSecret().getSecretName())) continue;
            if (v.getSecret().getItems() != null && !v.getSecret().getItems().isEmpty()) {
                Set<String> keys = new TreeSet<>();
                v.getSecret().getItems().forEach(i -> keys.add(i.getKey()));
                for (String k : new TreeSet<>(TLS_KEYS.values())) {
                    if (!keys.contains(k)) fail(where + ": the TLS Secret volume " + v.getName() + " (Secret " + secret + ") lacks key " + k + " (it needs tls.crt, tls.key and ca.crt)");
                }
            }
        }
        Secret rendered = renderedSecret(secret);
        if (rendered != null) {
            for (String k : new TreeSet<>(TLS_KEYS.values())) {
                if (secretValue(rendered, k) == null) fail("Secret " + secret + ": no key " + k + " (the services' TLS files)");
            }
        }
    }

    /** The Secret a service's TLS setting (mates.tls.cert-file, ...) comes from, for the tests; null if from no Secret file. */
    SecretFile tlsFile(String component, String setting) {
        Workload w = workload(component);
        Container c = main(w);
        Map<String, String> env = environment(w, c);
        return secretFile(w, c, tlsPath(env, component, setting), new ArrayList<>());
    }

    /**
     * A cert-manager Certificate that issues the services' TLS Secret is one certificate for all of them: its DNS names
     * cover every host the trainer dials (MATES_TRAINER_PROBERS, MATES_TRAINER_INFLUENCE_MODEL: the trainer verifies
     * the name) and every Service with a gRPC port (short, .namespace.svc and .namespace.svc.cluster.local: how other
     * clients dial them); it is a server AND a client certificate (the trainer presents it to the probers and the
     * influence model, which require one); the key is PKCS#8, the encoding the services are tested with.
     */
    private void certificates() {
        if (!expect.tls()) {
            if (!all(CertManager.Certificate.class).isEmpty()) fail("a cert-manager Certificate is rendered, but this rendering has no TLS");
            return;
        }
        Set<String> tlsSecrets = new TreeSet<>();
        for (String c : MATES_COMPONENTS) {
            SecretFile f = tlsFile(c, "mates.tls.cert-file");
            if (f != null) tlsSecrets.add(f.secret());
        }
        for (CertManager.Certificate cert : all(CertManager.Certificate.class)) {
            var spec = cert.spec();
            String cn = "Certificate " + cert.metadata().getName();
            if (spec == null || spec.secretName() == null) {
                fail(cn + ": no spec.secretName");
                continue;
            }
            if (!tlsSecrets.contains(spec.secretName())) {
                fail(cn + ": its Secret " + spec.secretName() + " is not the TLS Secret of the services (" + tlsSecrets + ")");
                continue;
            }
            if (spec.issuerRef() == null || spec.issuerRef().name() == null || spec.issuerRef().name().isBlank()) fail(cn + ": no issuerRef.name");
            List<String> usages = spec.usages() == null ? List.of() : spec.usages();
            for (String u : TLS_USAGES) {
                if (!usages.contains(u)) {
                    fail(cn + ": usages " + usages + " lack " + u + " (one certificate is every service's server certificate and the trainer's client certificate "
                            + "for the mutual TLS of the probers and the influence model)");
                }
            }
            if (spec.privateKey() == null || !"PKCS8".equals(spec.privateKey().encoding())) {
                fail(cn + ": privateKey.encoding must be PKCS8 (cert-manager's default is PKCS1): the services and the trainer's gRPC client are tested with PKCS#8 keys");
            }
            Set<String> names = new TreeSet<>(spec.dnsNames() == null ? List.of() : spec.dnsNames());
            Set<String> missing = new TreeSet<>();
            Map<String, String> env = environment("trainer");
            List<String> targets = new ArrayList<>();
            if (env.get("MATES_TRAINER_PROBERS") != null) targets.addAll(List.of(env.get("MATES_TRAINER_PROBERS").split(",")));
            if (env.get("MATES_TRAINER_INFLUENCE_MODEL") != null) targets.add(env.get("MATES_TRAINER_INFLUENCE_MODEL"));
            for (String t : targets) {
                String host = t.strip().replaceFirst("^dns:///", "").replaceFirst(":[0-9]+$", "");
                if (!names.contains(host)) missing.add(host + " (the trainer dials " + t.strip() + ")");
            }
            for (Service s : all(Service.class)) {
                boolean grpc = s.getSpec().getPorts().stream().anyMatch(p -> "grpc".equals(p.getName()));
                boolean mates = workloads.stream().anyMatch(x -> MATES_COMPONENTS.contains(x.component()) && selects(s.getSpec().getSelector(), x.template().getMetadata().getLabels()));
                if (!grpc || !mates) continue;
                String n = s.getMetadata().getName();
                String ns = s.getMetadata().getNamespace();
                List<String> wanted = ns == null ? List.of(n) : List.of(n, n + "." + ns + ".svc", n + "." + ns + ".svc.cluster.local");
                for (String x : wanted) if (!names.contains(x)) missing.add(x);
            }
            if (!missing.isEmpty()) fail(cn + ": dnsNames lack " + missing + ": a client verifying the name it dials would reject the certificate");
        }
    }

    private void trainer() {
        Workload t = workload("trainer");
        if (!Objects.equals(t.replicas(), 1)) fail(t.obj() + ": the trainer owns its runs: replicas must be 1, is " + t.replicas());
        if (t.obj().typed() instanceof Deployment d && (d.getSpec().getStrategy() == null || !"Recreate".equals(d.getSpec().getStrategy().getType()))) {
            fail(t.obj() + ": strategy must be Recreate (two trainers would resume the same runs)");
        }
        Map<String, String> env = environment("trainer");
        String probers = env.get("MATES_TRAINER_PROBERS");
        Workload prober = workload("oracle-prober");
        if (probers == null) {
            fail(t.obj() + ": MATES_TRAINER_PROBERS is not set");
        } else {
            for (String target : probers.split(",")) {
                boolean dns = target.strip().startsWith("dns:///");
                Service s = serviceFor(t.obj(), target.strip().replaceFirst("^dns:///", ""), prober);
                if (dns && s != null && !"None".equals(s.getSpec().getClusterIP())) {
                    fail(t.obj() + ": " + target + " resolves through DNS to every prober pod only with a headless Service (clusterIP: None)");
                }
            }
            String par = env.get("MATES_TRAINER_PROBE_PARALLELISM");
            int addresses = probers.split(",").length;
            int expected = prober.replicas() == null ? -1 : prober.replicas();
            if (expected > addresses && (par == null || Integer.parseInt(par) != expected)) {
                fail(t.obj() + ": MATES_TRAINER_PROBE_PARALLELISM is " + par + " but there are " + expected + " prober replicas");
            }
        }
        String influence = env.get("MATES_TRAINER_INFLUENCE_MODEL");
        if (influence == null) fail(t.obj() + ": MATES_TRAINER_INFLUENCE_MODEL is not set");
        else serviceFor(t.obj(), influence.replaceFirst("^dns:///", ""), workload("influence-model"));
        if (expect.bundledStores()) {
            String endpoint = env.get("MATES_OBJECT_STORE_ENDPOINT");
            if (endpoint != null) serviceFor(t.obj(), endpoint.replaceFirst("^https?://", "").replaceFirst("/.*", ""), workload("minio"));
            String uri = env.get("MATES_REDIS_URI");
            if (uri != null) serviceFor(t.obj(), uri.replaceFirst("^rediss?://", "").replaceFirst("^.*@", "").replaceFirst("/.*", ""), workload("redis"));
        }
    }

    /** The Service a host:port address names, which must select the workload's pods and expose the port. */
    private Service serviceFor(Obj from, String hostPort, Workload target) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            fail(from + ": address '" + hostPort + "' has no port");
            return null;
        }
        String host = hostPort.substring(0, colon);
        int port = Integer.parseInt(hostPort.substring(colon + 1));
        String name = host.split("\\.")[0];
        Service s = all(Service.class).stream().filter(x -> x.getMetadata().getName().equals(name)).findFirst().orElse(null);
        if (s == null) {
            fail(from + ": address " + hostPort + " names Service " + name + ", which is not rendered");
            return null;
        }
        if (!selects(s.getSpec().getSelector(), target.template().getMetadata().getLabels())) {
            fail(from + ": Service " + name + " does not select the " + target.component() + " pods");
        }
        if (s.getSpec().getPorts().stream().noneMatch(p -> p.getPort() == port)) fail(from + ": Service " + name + " has no port " + port);
        return s;
    }

    private void services() {
        for (Service s : all(Service.class)) {
            Map<String, String> sel = s.getSpec().getSelector();
            List<Workload> targets = workloads.stream().filter(w -> selects(sel, w.template().getMetadata().getLabels())).toList();
            if (sel == null || sel.isEmpty() || targets.isEmpty()) {
                fail("Service " + s.getMetadata().getName() + ": selects no workload (selector " + sel + ")");
                continue;
            }
            for (ServicePort p : s.getSpec().getPorts()) {
                IntOrString target = p.getTargetPort() == null ? new IntOrString(p.getPort()) : p.getTargetPort();
                for (Workload w : targets) {
                    if (containers(w.pod()).stream().noneMatch(c -> port(c, target) != null)) {
                        fail("Service " + s.getMetadata().getName() + ": targetPort " + target + " is not a port of " + w.obj());
                    }
                    ContainerPort cp = MATES_COMPONENTS.contains(w.component()) ? port(main(w), target) : null;
                    String n = p.getName() == null ? "" : p.getName();
                    if (cp != null && (n.equals(MANAGEMENT) || n.contains("metrics")) != MANAGEMENT.equals(cp.getName())) {
                        fail("Service " + s.getMetadata().getName() + ": port " + n + " leads to container port " + cp.getName() + " (" + cp.getContainerPort()
                                + ") of " + w.obj() + ": a metrics/management Service port must lead to the management port, and only such a port");
                    }
                }
            }
        }
    }

    private void networkPolicies() {
        List<NetworkPolicy> policies = all(NetworkPolicy.class);
        for (Workload w : workloads) {
            if (w.obj().typed() instanceof Job) continue;
            Map<String, String> labels = w.template().getMetadata().getLabels();
            List<NetworkPolicy> selecting = policies.stream().filter(p -> matches(p.getSpec().getPodSelector(), labels)
                    && (p.getSpec().getPolicyTypes() == null || p.getSpec().getPolicyTypes().contains("Ingress"))).toList();
            if (selecting.isEmpty()) {
                fail(w.obj() + ": no NetworkPolicy selects these pods, so anyone in the cluster can reach them");
                continue;
            }
            List<NetworkPolicyIngressRule> rules = new ArrayList<>();
            selecting.forEach(p -> {
                if (p.getSpec().getIngress() != null) rules.addAll(p.getSpec().getIngress());
            });
            String c = w.component();
            if (MATES_COMPONENTS.contains(c)) apiIngress(w, rules);
            if (Set.of("redis", "minio").contains(c)) {
                for (NetworkPolicyIngressRule r : rules) {
                    for (NetworkPolicyPeer peer : peers(r)) {
                        if (peer == null || peer.getIpBlock() != null) {
                            fail(w.obj() + ": ingress allowed from " + (peer == null ? "anywhere" : peer.getIpBlock()) + "; only mates pods may reach " + c);
                        } else if (peer.getNamespaceSelector() == null && (peer.getPodSelector() == null
                                || !"mates".equals(labelOf(peer.getPodSelector(), "app.kubernetes.io/part-of")) && labelOf(peer.getPodSelector(), COMPONENT) == null)) {
                            fail(w.obj() + ": ingress from " + peer.getPodSelector() + " is not limited to mates pods");
                        }
                    }
                }
            }
        }
    }

    /**
     * Who may reach a service, port by port. The gRPC API port admits only the service's callers: the trainer's admits
     * pods labelled mates.dev/trainer-client: "true", the online scorer's the trainer and pods labelled
     * mates.dev/scorer-client: "true", every other service's the trainer alone. Any other peer (Prometheus, a whole
     * namespace, an ipBlock, anyone) may be admitted to the management port and to nothing else. And each service
     * admits its real callers, or it would be unreachable.
     */
    private void apiIngress(Workload w, List<NetworkPolicyIngressRule> rules) {
        String c = w.component();
        Container main = main(w);
        Integer api = apiPort(w);
        Integer mgmt = mgmtPort(w);
        boolean client = false;
        boolean trainer = false;
        boolean scraper = false;
        for (NetworkPolicyIngressRule r : rules) {
            Set<Integer> covered = covered(main, r);
            for (NetworkPolicyPeer peer : peers(r)) {
                String caller = apiCaller(c, peer);
                if (caller == null) {
                    Set<Integer> beyond = new TreeSet<>(covered);
                    if (mgmt != null) beyond.remove(mgmt);
                    if (!beyond.isEmpty()) {
                        fail(w.obj() + ": ingress from " + describe(peer) + " reaches port(s) " + beyond + (beyond.contains(api) ? " (the gRPC API)" : "")
                                + "; only " + callers(c) + " may call the API, any other peer (Prometheus included) only the management port " + mgmt);
                    }
                    if (mgmt != null && covered.contains(mgmt)) scraper = true;
                } else if (api != null && covered.contains(api)) {
                    if (caller.equals("trainer")) trainer = true;
                    if (caller.equals("client") && peer.getNamespaceSelector() == null) client = true;
                }
            }
        }
        if (c.equals("trainer") && !client) {
            fail(w.obj() + ": no NetworkPolicy admits pods of its namespace labelled " + TRAINER_CLIENT + ": \"true\" to the API port " + api + " (clients could not submit runs)");
        }
        if (c.equals("scorer") && !client) {
            fail(w.obj() + ": no NetworkPolicy admits pods of its namespace labelled " + SCORER_CLIENT + ": \"true\" to the API port " + api);
        }
        if (Set.of("oracle-prober", "influence-model", "scorer").contains(c) && !trainer) fail(w.obj() + ": the trainer is not admitted to the API port " + api);
        boolean scraped = !all(ServiceMonitor.class).isEmpty() || w.template().getMetadata().getAnnotations() != null
                && "true".equals(w.template().getMetadata().getAnnotations().get("prometheus.io/scrape"));
        if (scraped && !scraper) fail(w.obj() + ": its metrics are scraped (ServiceMonitor or prometheus.io/scrape), yet no NetworkPolicy admits a scraper to the management port " + mgmt);
    }

    /** "trainer" or "client" when the peer may call component {@code c}'s API; null when it may not. */
    private String apiCaller(String c, NetworkPolicyPeer peer) {
        if (peer == null || peer.getIpBlock() != null || peer.getPodSelector() == null) return null;
        if (!c.equals("trainer") && onlyTrainer(peer)) return "trainer";
        String label = c.equals("trainer") ? TRAINER_CLIENT : c.equals("scorer") ? SCORER_CLIENT : null;
        return label != null && "true".equals(labelOf(peer.getPodSelector(), label)) ? "client" : null;
    }

    private static String callers(String c) {
        return switch (c) {
            case "trainer" -> "pods labelled " + TRAINER_CLIENT + ": \"true\"";
            case "scorer" -> "the trainer and pods labelled " + SCORER_CLIENT + ": \"true\"";
            default -> "the trainer";
        };
    }

    /** A peer of this namespace selecting the trainer pods and no other workload. */
    private boolean onlyTrainer(NetworkPolicyPeer peer) {
        Workload t = workload("trainer");
        return peer.getIpBlock() == null && peer.getNamespaceSelector() == null && peer.getPodSelector() != null
                && matches(peer.getPodSelector(), t.template().getMetadata().getLabels())
                && workloads.stream().filter(x -> x != t).noneMatch(x -> matches(peer.getPodSelector(), x.template().getMetadata().getLabels()));
    }

    /** The ports of container {@code c} a rule opens: all of them without `ports`, else the listed ones (numbers, names, ranges). */
    static Set<Integer> covered(Container c, NetworkPolicyIngressRule r) {
        Set<Integer> all = new TreeSet<>();
        if (c.getPorts() != null) c.getPorts().forEach(p -> all.add(p.getContainerPort()));
        if (r.getPorts() == null || r.getPorts().isEmpty()) return all;
        Set<Integer> out = new TreeSet<>();
        for (NetworkPolicyPort p : r.getPorts()) {
            if (p.getPort() == null) {
                out.addAll(all);
            } else if (p.getPort().getStrVal() != null) {
                ContainerPort cp = port(c, p.getPort());
                if (cp != null) out.add(cp.getContainerPort());
            } else {
                int from = p.getPort().getIntVal();
                int to = p.getEndPort() == null ? from : p.getEndPort();
                all.stream().filter(n -> n >= from && n <= to).forEach(out::add);
            }
        }
        return out;
    }

    private static String describe(NetworkPolicyPeer peer) {
        if (peer == null) return "anywhere (a rule without from)";
        List<String> parts = new ArrayList<>();
        if (peer.getIpBlock() != null) parts.add("ipBlock " + peer.getIpBlock().getCidr());
        if (peer.getNamespaceSelector() != null) parts.add("namespaces " + selector(peer.getNamespaceSelector()));
        if (peer.getPodSelector() != null) parts.add("pods " + selector(peer.getPodSelector()));
        else if (peer.getNamespaceSelector() != null) parts.add("(every pod)");
        return String.join(" ", parts);
    }

    private static String selector(LabelSelector s) {
        boolean labels = s.getMatchLabels() != null && !s.getMatchLabels().isEmpty();
        boolean exprs = s.getMatchExpressions() != null && !s.getMatchExpressions().isEmpty();
        if (!labels && !exprs) return "{} (all)";
        return (labels ? s.getMatchLabels().toString() : "") + (exprs ? " " + s.getMatchExpressions().stream().map(e -> e.getKey() + " " + e.getOperator() + " " + e.getValues()).toList() : "");
    }

    // ---- metrics ----

    /** Prometheus scrapes the management port: annotations, Service ports and ServiceMonitor endpoints all lead there. */
    private void monitoring() {
        for (String comp : MATES_COMPONENTS) {
            Workload w = workload(comp);
            Map<String, String> ann = w.template().getMetadata().getAnnotations();
            String port = ann == null ? null : ann.get("prometheus.io/port");
            Integer mgmt = mgmtPort(w);
            if (port != null && (mgmt == null || !port.equals(String.valueOf(mgmt)))) {
                fail(w.obj() + ": annotation prometheus.io/port " + port + " is not the management port " + mgmt + " (/q/metrics is served there only)");
            }
        }
        for (ServiceMonitor m : all(ServiceMonitor.class)) {
            String mn = "ServiceMonitor " + m.getMetadata().getName();
            List<Service> scraped = all(Service.class).stream().filter(s -> matches(m.getSpec().getSelector(), s.getMetadata().getLabels())).toList();
            if (scraped.isEmpty()) fail(mn + ": selects no Service");
            for (Endpoint e : m.getSpec().getEndpoints()) {
                if (e.getScheme() != null && !"http".equalsIgnoreCase(e.getScheme())) {
                    fail(mn + ": endpoint scheme " + e.getScheme() + ": /q/metrics is on the management port, which serves plain HTTP (TLS covers the gRPC port only)");
                }
                for (Service s : scraped) {
                    String sn = s.getMetadata().getName();
                    IntOrString target;
                    if (e.getPort() != null) {
                        ServicePort sp = s.getSpec().getPorts().stream().filter(p -> e.getPort().equals(p.getName())).findFirst().orElse(null);
                        if (sp == null) {
                            fail(mn + ": Service " + sn + " has no port named " + e.getPort());
                            continue;
                        }
                        target = sp.getTargetPort() == null ? new IntOrString(sp.getPort()) : sp.getTargetPort();
                    } else if (e.getTargetPort() != null) {
                        target = e.getTargetPort();
                    } else {
                        fail(mn + ": an endpoint names neither port nor targetPort");
                        continue;
                    }
                    for (Workload w : workloads) {
                        if (!MATES_COMPONENTS.contains(w.component()) || !selects(s.getSpec().getSelector(), w.template().getMetadata().getLabels())) continue;
                        ContainerPort cp = port(main(w), target);
                        if (cp == null || !MANAGEMENT.equals(cp.getName())) {
                            fail(mn + ": endpoint " + (e.getPort() != null ? "port " + e.getPort() : "targetPort " + target) + " scrapes "
                                    + (cp == null ? target : "container port " + cp.getName() + " (" + cp.getContainerPort() + ")") + " of " + w.obj()
                                    + " through Service " + sn + ", not its management port");
                        }
                    }
                }
            }
        }
    }

    // ---- stores ----

    /**
     * With the bundled MinIO the services never get its root user: they read a key pair of their own, and the bucket
     * Job (which alone reads the root user besides MinIO) creates that MinIO user with a policy limited to object
     * access in the bucket.
     */
    private void objectStoreUser() {
        Workload minio = workloads.stream().filter(w -> "minio".equals(w.component())).findFirst().orElse(null);
        if (minio == null) return;
        Map<String, String> menv = environment(minio, main(minio));
        String rootUser = menv.get("MINIO_ROOT_USER");
        String rootPassword = menv.get("MINIO_ROOT_PASSWORD");
        if (rootUser == null || !rootUser.startsWith("secret:") || rootPassword == null || !rootPassword.startsWith("secret:")) {
            fail(minio.obj() + ": MINIO_ROOT_USER / MINIO_ROOT_PASSWORD must come from a Secret, are " + rootUser + " / " + rootPassword);
            return;
        }
        Set<String> rootSecrets = new TreeSet<>(List.of(secretName(rootUser), secretName(rootPassword)));
        String accessKey = null;
        String secretKey = null;
        for (String comp : MATES_COMPONENTS) {
            Workload w = workload(comp);
            Map<String, String> env = environment(w, main(w));
            String ak = env.get("MATES_OBJECT_STORE_ACCESS_KEY");
            String sk = env.get("MATES_OBJECT_STORE_SECRET_KEY");
            if (ak == null || sk == null) continue;
            if (rootSecrets.contains(secretName(ak)) || rootSecrets.contains(secretName(sk))) {
                fail(w.obj() + ": the services get the MinIO root credentials (" + ak + ", " + sk + ", the Secret of MINIO_ROOT_USER); they must log in as "
                        + "their own MinIO user, which the bucket Job creates");
            }
            if (accessKey == null) {
                accessKey = ak;
                secretKey = sk;
            }
        }
        if (accessKey == null) return;
        Secret root = renderedSecret(secretName(rootUser));
        Secret own = renderedSecret(secretName(accessKey));
        if (root != null && own != null && own != root) {
            String a = secretValue(own, secretKey(accessKey));
            if (a != null && a.equals(secretValue(root, secretKey(rootUser)))) fail("Secret " + secretName(accessKey) + ": the services' access key is the MinIO root user's");
        }
        if (!expect.bucketJob()) return;
        Workload job = workload("bucket-init");
        Container jc = main(job);
        Map<String, String> jenv = environment(job, jc);
        if (!jenv.containsValue(accessKey) || !jenv.containsValue(secretKey)) {
            fail(job.obj() + ": does not read the services' key pair (" + accessKey + ", " + secretKey + "), so it cannot create the MinIO user they log in as");
        }
        List<String> argv = new ArrayList<>();
        if (jc.getCommand() != null) argv.addAll(jc.getCommand());
        if (jc.getArgs() != null) argv.addAll(jc.getArgs());
        String script = String.join("\n", argv);
        for (String cmd : List.of("mc admin policy create", "mc admin user add", "mc admin policy attach")) {
            if (!script.contains(cmd)) fail(job.obj() + ": its script does not run '" + cmd + "' (the services' user and its policy)");
        }
        Matcher m = Pattern.compile("\"((?:s3|admin|kms):[A-Za-z*]*|\\*)\"").matcher(script);
        boolean any = false;
        while (m.find()) {
            any = true;
            if (!SERVICE_S3_ACTIONS.contains(m.group(1))) fail(job.obj() + ": the services' policy grants " + m.group(1) + "; allowed: " + new TreeSet<>(SERVICE_S3_ACTIONS));
        }
        if (!any) fail(job.obj() + ": no s3: action found in its script: where is the services' policy?");
        if (script.contains("arn:aws:s3:::*")) fail(job.obj() + ": the services' policy covers every bucket (arn:aws:s3:::*)");
    }

    private static String secretName(String ref) {
        return ref.substring("secret:".length(), ref.lastIndexOf('/'));
    }

    private static String secretKey(String ref) {
        return ref.substring(ref.lastIndexOf('/') + 1);
    }

    private Secret renderedSecret(String name) {
        return all(Secret.class).stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst().orElse(null);
    }

    /**
     * The bundled Redis disables its default user and gives the services an ACL user of their own, with the services'
     * password, reaching only their keys (prefix and queue streams) and no @dangerous command.
     */
    private void redisAcl() {
        Workload redis = workloads.stream().filter(w -> "redis".equals(w.component())).findFirst().orElse(null);
        if (redis == null) return;
        Container rc = main(redis);
        List<String> argv = new ArrayList<>();
        if (rc.getCommand() != null) argv.addAll(rc.getCommand());
        if (rc.getArgs() != null) argv.addAll(rc.getArgs());
        String where = redis.obj() + " container " + rc.getName();
        if (argv.contains("--requirepass")) fail(where + ": --requirepass gives the default user every command and key; disable it and give the services an ACL user (--user)");
        Map<String, List<String>> users = new LinkedHashMap<>();
        for (int i = 0; i < argv.size(); i++) {
            if (!argv.get(i).equals("--user") || i + 1 >= argv.size()) continue;
            List<String> rules = new ArrayList<>();
            for (int j = i + 2; j < argv.size() && !argv.get(j).startsWith("--"); j++) rules.add(argv.get(j));
            users.put(argv.get(i + 1), rules);
        }
        List<String> def = users.get("default");
        if (def == null || !def.contains("off") || def.lastIndexOf("on") > def.lastIndexOf("off")) {
            fail(where + ": the default user is not disabled (--user default off): a client could run any command on any key with the password, or without one");
        }
        Map<String, String> env = environment("trainer");
        String uri = env.getOrDefault("MATES_REDIS_URI", "");
        String userinfo = uri.replaceFirst("^rediss?://", "");
        userinfo = userinfo.contains("@") ? userinfo.substring(0, userinfo.lastIndexOf('@')) : "";
        String user = userinfo.contains(":") ? userinfo.substring(0, userinfo.indexOf(':')) : "";
        user = user.replace("$(MATES_REDIS_USERNAME)", env.getOrDefault("MATES_REDIS_USERNAME", ""));
        if (user.isEmpty() || user.equals("default")) {
            fail(where + ": the services log in as the default user (" + uri + "); they need an ACL user of their own");
            return;
        }
        List<String> rules = users.get(user);
        if (rules == null || !rules.contains("on")) {
            fail(where + ": no enabled --user " + user + " for the user the services log in as (users: " + users.keySet() + ")");
            return;
        }
        String password = env.get("MATES_REDIS_PASSWORD");
        Map<String, String> renv = environment(redis, rc);
        boolean same = renv.entrySet().stream().anyMatch(e -> e.getValue().equals(password) && rules.contains(">$(" + e.getKey() + ")"));
        if (!same) fail(where + ": the password of Redis user " + user + " is not the services' MATES_REDIS_PASSWORD (" + password + ")");
        int dangerous = rules.lastIndexOf("-@dangerous");
        int all = Math.max(rules.lastIndexOf("+@all"), rules.lastIndexOf("allcommands"));
        if (dangerous < 0 || all > dangerous) fail(where + ": Redis user " + user + " may run @dangerous commands (FLUSHALL, CONFIG, KEYS, DEBUG, ...): add -@dangerous last");
        String prefix = env.getOrDefault("MATES_REDIS_KEY_PREFIX", "");
        List<String> patterns = rules.stream().filter(r -> r.startsWith("~") || r.startsWith("%")).map(r -> r.substring(r.indexOf('~') + 1)).toList();
        if (rules.contains("allkeys") || !prefix.isEmpty() && patterns.contains("*")) fail(where + ": Redis user " + user + " reaches every key; limit it to ~" + prefix + "* and the queue streams");
        List<String> keys = new ArrayList<>(List.of(prefix + "run:x", expect.stream()));
        if (env.get("MATES_QUEUE_DEAD_LETTER_STREAM") != null) keys.add(env.get("MATES_QUEUE_DEAD_LETTER_STREAM"));
        for (String k : keys) {
            if (patterns.stream().noneMatch(p -> glob(p, k))) fail(where + ": Redis user " + user + " cannot reach key " + k + " (patterns " + patterns + ")");
        }
        // Bounded memory, and nothing evicted: an evicted queue entry or run hash is lost work, a refused write is retried.
        int mm = argv.indexOf("--maxmemory");
        int policy = argv.indexOf("--maxmemory-policy");
        if (mm < 0 || mm + 1 >= argv.size()) fail(where + ": no --maxmemory: Redis grows until the container is OOM-killed");
        if (policy < 0 || policy + 1 >= argv.size() || !argv.get(policy + 1).equals("noeviction")) {
            fail(where + ": --maxmemory-policy must be noeviction (an evicting policy silently drops queue entries and run state)");
        }
    }

    /** A Redis key pattern (* and ? wildcards; no [classes] here) matching a key. */
    static boolean glob(String pattern, String key) {
        StringBuilder re = new StringBuilder();
        for (char ch : pattern.toCharArray()) {
            re.append(ch == '*' ? ".*" : ch == '?' ? "." : Pattern.quote(String.valueOf(ch)));
        }
        return key.matches(re.toString());
    }

    /** The peers of a rule; a rule without `from` admits anyone (null). */
    private static List<NetworkPolicyPeer> peers(NetworkPolicyIngressRule r) {
        if (r.getFrom() == null || r.getFrom().isEmpty()) {
            List<NetworkPolicyPeer> any = new ArrayList<>();
            any.add(null);
            return any;
        }
        return r.getFrom();
    }

    private static String labelOf(LabelSelector s, String key) {
        return s.getMatchLabels() == null ? null : s.getMatchLabels().get(key);
    }

    private void pdb() {
        Map<String, String> online = workload("scorer").template().getMetadata().getLabels();
        List<PodDisruptionBudget> pdbs = all(PodDisruptionBudget.class).stream().filter(p -> matches(p.getSpec().getSelector(), online)).toList();
        if (pdbs.isEmpty()) fail("no PodDisruptionBudget selects the online scorer pods");
        for (PodDisruptionBudget p : pdbs) {
            if (p.getSpec().getMaxUnavailable() == null && p.getSpec().getMinAvailable() == null) fail("PodDisruptionBudget " + p.getMetadata().getName() + ": neither maxUnavailable nor minAvailable");
        }
    }

    private void gpu() {
        for (Workload w : workloads) {
            for (Container c : containers(w.pod())) {
                boolean limit = c.getResources() != null && c.getResources().getLimits() != null && c.getResources().getLimits().containsKey(GPU);
                boolean shouldHave = expect.gpu() && "scorer-worker".equals(w.component()) && w.pod().getContainers().contains(c);
                if (limit != shouldHave) fail(w.obj() + " container " + c.getName() + ": " + (limit ? "has" : "lacks") + " a " + GPU + " limit");
                if (limit) {
                    Quantity q = c.getResources().getLimits().get(GPU);
                    if (Quantity.getAmountInBytes(q).intValue() < 1) fail(w.obj() + ": " + GPU + " limit " + q);
                    Quantity req = c.getResources().getRequests() == null ? null : c.getResources().getRequests().get(GPU);
                    if (req != null && !req.equals(q)) fail(w.obj() + ": " + GPU + " requests must equal limits (extended resources cannot overcommit)");
                }
            }
        }
        if (expect.gpu()) {
            Workload w = workload("scorer-worker");
            PodSpec pod = w.pod();
            List<Toleration> tol = pod.getTolerations() == null ? List.of() : pod.getTolerations();
            if (tol.stream().noneMatch(t -> GPU.equals(t.getKey()))) fail(w.obj() + ": GPU workers need a toleration for the " + GPU + " taint");
            if (pod.getNodeSelector() == null || pod.getNodeSelector().isEmpty()) fail(w.obj() + ": GPU workers need a nodeSelector for GPU nodes");
            if (!main(w).getImage().contains("scorer-gpu")) fail(w.obj() + ": GPU workers must run the scorer-gpu image, run " + main(w).getImage());
            if (!"cuda".equals(environment("scorer-worker").get("MATES_ENCODER_DEVICE"))) fail(w.obj() + ": GPU workers must set MATES_ENCODER_DEVICE=cuda");
            Workload online = workload("scorer");
            if (main(online).getImage().contains("scorer-gpu")) fail(online.obj() + ": the online scorer runs the GPU image without a GPU");
        }
    }

    private void autoscaling() {
        Workload worker = workload("scorer-worker");
        String workerName = worker.obj().name();
        List<Keda.ScaledObject> scaled = all(Keda.ScaledObject.class);
        List<HorizontalPodAutoscaler> hpas = all(HorizontalPodAutoscaler.class);
        switch (expect.autoscaling()) {
            case "keda" -> {
                if (scaled.size() != 1) {
                    fail("expected one KEDA ScaledObject, found " + scaled.size());
                    return;
                }
                Keda.ScaledObject so = scaled.get(0);
                var ref = so.spec().scaleTargetRef();
                if (ref == null || !workerName.equals(ref.name()) || ref.kind() != null && !ref.kind().equals("Deployment")) {
                    fail("ScaledObject " + so.metadata().getName() + ": scaleTargetRef " + ref + " is not Deployment " + workerName);
                }
                if (hpas.stream().anyMatch(h -> workerName.equals(h.getSpec().getScaleTargetRef().getName()))) {
                    fail("both an HPA and a ScaledObject scale " + workerName + " (KEDA creates its own HPA)");
                }
                Map<String, String> env = environment("scorer-worker");
                List<Keda.Trigger> streams = so.spec().triggers().stream().filter(t -> "redis-streams".equals(t.type())).toList();
                if (streams.isEmpty()) fail("ScaledObject: no redis-streams trigger");
                for (Keda.Trigger t : streams) {
                    Map<String, String> m = t.metadata();
                    if (!Objects.equals(m.get("stream"), env.get("MATES_QUEUE_STREAM")) || !Objects.equals(m.get("stream"), expect.stream())) {
                        fail("ScaledObject trigger stream " + m.get("stream") + " is not the stream the workers read (" + env.get("MATES_QUEUE_STREAM") + ")");
                    }
                    if (!Objects.equals(m.get("consumerGroup"), env.get("MATES_QUEUE_GROUP"))) {
                        fail("ScaledObject trigger consumerGroup " + m.get("consumerGroup") + " is not the workers' group (" + env.get("MATES_QUEUE_GROUP") + ")");
                    }
                    if (m.get("lagCount") == null && m.get("pendingEntriesCount") == null && m.get("streamLength") == null) {
                        fail("ScaledObject trigger: none of lagCount / pendingEntriesCount / streamLength is set");
                    }
                    String address = m.get("address") != null ? m.get("address") : m.get("host") + ":" + m.get("port");
                    String redisHost = env.get("MATES_REDIS_URI").replaceFirst("^rediss?://", "").replaceFirst("^.*@", "").replaceFirst("/.*", "");
                    String addrName = address.split("[.:]")[0];
                    if (!addrName.equals(redisHost.split("[.:]")[0]) || !address.endsWith(redisHost.substring(redisHost.lastIndexOf(':')))) {
                        fail("ScaledObject trigger address " + address + " is not the Redis the workers use (" + redisHost + ")");
                    }
                    if (expect.bundledStores() && !address.contains(".svc")) {
                        fail("ScaledObject trigger address " + address + " must be namespace-qualified: KEDA's operator resolves it from its own namespace");
                    }
                    if (t.authenticationRef() == null) {
                        fail("ScaledObject trigger: Redis needs a password but there is no authenticationRef");
                    } else {
                        var auth = all(Keda.TriggerAuthentication.class).stream().filter(a -> a.metadata().getName().equals(t.authenticationRef().name())).findFirst();
                        if (auth.isEmpty()) {
                            fail("ScaledObject trigger: TriggerAuthentication " + t.authenticationRef().name() + " is not rendered");
                        } else {
                            String pw = env.get("MATES_REDIS_PASSWORD");
                            boolean same = auth.get().spec().secretTargetRef() != null && auth.get().spec().secretTargetRef().stream()
                                    .anyMatch(s -> "password".equals(s.parameter()) && ("secret:" + s.name() + "/" + s.key()).equals(pw));
                            if (!same) fail("TriggerAuthentication " + t.authenticationRef().name() + ": password is not the workers' Redis secret " + pw);
                            String user = env.get("MATES_REDIS_USERNAME");
                            var spec = auth.get().spec();
                            boolean named = spec.env() != null && spec.env().stream().anyMatch(e -> "username".equals(e.parameter())
                                    && "MATES_REDIS_USERNAME".equals(e.name()) && (e.containerName() == null || e.containerName().equals(main(worker).getName())))
                                    || spec.secretTargetRef() != null && spec.secretTargetRef().stream().anyMatch(s -> "username".equals(s.parameter()));
                            if (user != null && !user.isEmpty() && !named) {
                                fail("TriggerAuthentication " + t.authenticationRef().name() + ": the workers log in as Redis user " + user
                                        + " but KEDA gets no username (it would AUTH as the default user)");
                            }
                        }
                    }
                }
                if (worker.replicas() != null) fail(worker.obj() + ": sets replicas although KEDA owns the count (every apply would reset it)");
            }
            case "hpa" -> {
                if (!scaled.isEmpty()) fail("HPA mode, yet a ScaledObject is rendered");
                var h = hpas.stream().filter(x -> workerName.equals(x.getSpec().getScaleTargetRef().getName())).toList();
                if (h.size() != 1) fail("expected one HorizontalPodAutoscaler on " + workerName + ", found " + h.size());
                else if (!"Deployment".equals(h.get(0).getSpec().getScaleTargetRef().getKind())) fail("the HPA does not target a Deployment");
                if (worker.replicas() != null) fail(worker.obj() + ": sets replicas although the HPA owns the count");
            }
            default -> {
                if (!scaled.isEmpty() || !hpas.isEmpty()) fail("autoscaling off, yet " + scaled.size() + " ScaledObject(s) and " + hpas.size() + " HPA(s)");
            }
        }
    }

    private void secrets() {
        for (Secret s : all(Secret.class)) {
            if (!expect.generatedSecretsAllowed()) fail("Secret " + s.getMetadata().getName() + " is rendered: secrets must be referenced, not shipped");
        }
    }

    // ---- helpers ----

    static List<Container> containers(PodSpec pod) {
        List<Container> all = new ArrayList<>(pod.getContainers());
        if (pod.getInitContainers() != null) all.addAll(pod.getInitContainers());
        return all;
    }

    /** The container named after the component, else the first. */
    static Container main(Workload w) {
        return w.pod().getContainers().stream().filter(c -> c.getName().equals(w.component())).findFirst().orElse(w.pod().getContainers().get(0));
    }

    static ContainerPort port(Container c, IntOrString ref) {
        if (c.getPorts() == null || ref == null) return null;
        for (ContainerPort p : c.getPorts()) {
            if (ref.getStrVal() != null && ref.getStrVal().equals(p.getName())) return p;
            if (ref.getIntVal() != null && ref.getIntVal().equals(p.getContainerPort())) return p;
        }
        return null;
    }

    static boolean selects(Map<String, String> selector, Map<String, String> labels) {
        return selector != null && !selector.isEmpty() && labels != null && labels.entrySet().containsAll(selector.entrySet());
    }

    static boolean matches(LabelSelector s, Map<String, String> labels) {
        if (s == null) return false;
        if (s.getMatchExpressions() != null && !s.getMatchExpressions().isEmpty()) {
            for (var e : s.getMatchExpressions()) {
                String v = labels == null ? null : labels.get(e.getKey());
                boolean ok = switch (e.getOperator()) {
                    case "In" -> v != null && e.getValues().contains(v);
                    case "NotIn" -> v == null || !e.getValues().contains(v);
                    case "Exists" -> v != null;
                    case "DoesNotExist" -> v == null;
                    default -> false;
                };
                if (!ok) return false;
            }
        }
        Map<String, String> ml = s.getMatchLabels();
        return ml == null || ml.isEmpty() || labels != null && labels.entrySet().containsAll(ml.entrySet());
    }
}
