package dev.mates.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mates.cli.cluster.LocalCluster;
import dev.mates.proto.auth.BearerToken;
import dev.mates.proto.auth.Channels;
import dev.mates.proto.auth.TokenFile;
import io.grpc.ManagedChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The token the CLI sends to a service: {@code --token-file FILE}, else the environment variable {@code MATES_TOKEN},
 * else, when the target is a service (the trainer, a scorer…) of a local cluster started from this folder
 * ({@code .mates-cluster}), that cluster's token file.
 */
final class RemoteAuth {
    static final String ENV = "MATES_TOKEN";

    private RemoteAuth() {}

    static Supplier<String> token(String target, Path tokenFile) {
        if (tokenFile != null) return TokenFile.open("--token-file", tokenFile)::token;
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) return env::strip;
        try {
            JsonNode st = localClusterOf(target);
            Path f = LOCAL_CLUSTER.resolve(LocalCluster.TOKEN_FILE);
            if (st != null && Files.isRegularFile(f)) return TokenFile.open("the local cluster's token (" + f + ")", f)::token;
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception ignored) {
            // no readable local cluster state: fall through to the error below
        }
        throw new IllegalArgumentException(target + ": no token to authenticate with: set " + ENV
                + " or pass --token-file FILE (`mates cluster up` writes one to <cluster dir>/" + LocalCluster.TOKEN_FILE + ")");
    }

    /**
     * TLS towards {@code target}: the given files, else {@code MATES_TLS_CA} (and {@code MATES_TLS_CERT} /
     * {@code MATES_TLS_KEY} for mutual TLS), else a local cluster's client certificate when it runs with TLS;
     * plaintext otherwise.
     */
    static Channels.Tls tls(String target, Path ca, Path cert, Path key) {
        // Each file: its flag, else its environment variable.
        ca = ca != null ? ca : env("MATES_TLS_CA");
        cert = cert != null ? cert : env("MATES_TLS_CERT");
        key = key != null ? key : env("MATES_TLS_KEY");
        if (ca != null || cert != null || key != null) return new Channels.Tls(ca, cert, key);
        try {
            JsonNode st = localClusterOf(target);
            if (st != null && st.path("tls").asBoolean()) {
                Path c = Path.of(st.path("tls_client_dir").asText());
                return new Channels.Tls(c.resolve("ca.crt"), c.resolve("tls.crt"), c.resolve("tls.key"));
            }
        } catch (Exception ignored) {
            // no readable local cluster state: plaintext
        }
        return Channels.Tls.NONE;
    }

    /** The local cluster's folder the CLI looks at by default, in the current folder. */
    static final Path LOCAL_CLUSTER = Path.of(".mates-cluster").toAbsolutePath();

    /** The trainer of the local cluster started from this folder, if one is up. */
    static Optional<String> localTrainer() {
        try {
            JsonNode st = ClusterCommand.state(LOCAL_CLUSTER);
            return st == null || !st.hasNonNull("trainer") ? Optional.empty() : Optional.of(st.get("trainer").asText());
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /** The local cluster's state when {@code target} is the gRPC address of one of its services, else null. */
    static JsonNode localClusterOf(String target) throws Exception {
        JsonNode st = ClusterCommand.state(LOCAL_CLUSTER);
        if (st == null) return null;
        String t = target.strip().replaceFirst("^localhost:", "127.0.0.1:");
        if (t.equals(st.path("trainer").asText())) return st;
        for (JsonNode p : st.path("processes")) {
            if (p.path("management_port").asInt() > 0 && t.equals("127.0.0.1:" + p.path("port").asInt())) return st;
        }
        return null;
    }

    /** Whether {@code target} (host:port, or a gRPC target URI) names this machine. */
    static boolean loopback(String target) {
        String t = target.replaceFirst("^(dns|ipv4|ipv6):(///?)?", "");
        String host = t.startsWith("[") ? t.substring(1, Math.max(1, t.indexOf(']'))) : t.replaceFirst(":\\d+$", "");
        return host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
    }

    private static Path env(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : Path.of(v.strip());
    }

    /** A channel to {@code target} with {@code tls} whose calls carry {@code token}. */
    static ManagedChannel channel(String target, Channels.Tls tls, Supplier<String> token) {
        return Channels.builder(target, tls).intercept(BearerToken.of(token)).build();
    }
}
