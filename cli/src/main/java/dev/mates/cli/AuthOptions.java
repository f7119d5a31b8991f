package dev.mates.cli;

import dev.mates.proto.auth.Channels;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options by which a command authenticates to a service ({@code --token-file}, {@code --tls-*}), as a picocli
 * mixin of {@code run --remote}, the run lifecycle commands and {@code loadtest}; {@link RemoteAuth} resolves what
 * is not given.
 */
final class AuthOptions {
    @Option(names = "--token-file", paramLabel = "FILE", description = "The client token to send (default: $MATES_TOKEN, "
            + "else the token of the local cluster in .mates-cluster when the target is one of its services).")
    Path tokenFile;

    @Option(names = "--tls-ca", paramLabel = "FILE", description = "TLS, trusting this CA (PEM; default: $MATES_TLS_CA, "
            + "else the local cluster's when it runs with --tls, else plaintext).")
    Path tlsCa;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "The client certificate for mutual TLS (PEM; default: $MATES_TLS_CERT).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "The client certificate's key (PEM; default: $MATES_TLS_KEY).")
    Path tlsKey;

    /** Whether any of these options was given. */
    boolean given() {
        return tokenFile != null || tlsCa != null || tlsCert != null || tlsKey != null;
    }

    Channels.Tls tls(String target) {
        return RemoteAuth.tls(target, tlsCa, tlsCert, tlsKey);
    }

    /** A channel to {@code target} whose calls carry the token; warns when the token would cross the network in plaintext. */
    ManagedChannel channel(String target) {
        Channels.Tls tls = tls(target);
        ManagedChannel ch = RemoteAuth.channel(target, tls, RemoteAuth.token(target, tokenFile));
        if (!tls.enabled() && !RemoteAuth.loopback(target)) {
            System.err.println("warning: " + target + " without TLS: the token and the data travel in plaintext; "
                    + "pass --tls-ca FILE (or set MATES_TLS_CA) if the service serves TLS");
        }
        return ch;
    }
}
