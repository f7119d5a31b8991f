package dev.mates.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mates.cli.cluster.LocalCluster;
import dev.mates.proto.auth.BearerToken;
import dev.mates.proto.auth.TokenFile;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * The token the CLI sends to a service: {@code --token-file FILE}, else the environment variable {@code MATES_TOKEN},
 * else, when the target is the trainer of a local cluster started from this folder ({@code .mates-cluster}), that
 * cluster's token file.
 */
final class RemoteAuth {
    static final String ENV = "MATES_TOKEN";

    private RemoteAuth() {}

    static Supplier<String> token(String target, Path tokenFile) {
        if (tokenFile != null) return TokenFile.open("--token-file", tokenFile)::token;
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) return env::strip;
        Path dir = Path.of(".mates-cluster").toAbsolutePath();
        try {
            JsonNode st = ClusterCommand.state(dir);
            Path f = dir.resolve(LocalCluster.TOKEN_FILE);
            if (st != null && target.equals(st.path("trainer").asText()) && Files.isRegularFile(f)) {
                return TokenFile.open("the local cluster's token (" + f + ")", f)::token;
            }
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception ignored) {
            // no readable local cluster state: fall through to the error below
        }
        throw new IllegalArgumentException("--remote " + target + ": no token to authenticate with: set " + ENV
                + " or pass --token-file FILE (`mates cluster up` writes one to <cluster dir>/" + LocalCluster.TOKEN_FILE + ")");
    }

    /** A plaintext channel to {@code target} whose calls carry {@code token}. */
    static ManagedChannel channel(String target, Supplier<String> token) {
        return ManagedChannelBuilder.forTarget(target).usePlaintext().intercept(BearerToken.of(token)).build();
    }
}
