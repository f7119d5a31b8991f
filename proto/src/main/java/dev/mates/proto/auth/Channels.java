package dev.mates.proto.auth;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannelBuilder;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * Channel credentials for mates' clients (the CLI, the trainer calling the internal services): plaintext, TLS that
 * trusts a CA file, or mutual TLS that also presents a client certificate. PEM files, as cert-manager writes them.
 */
public final class Channels {
    private Channels() {}

    /** TLS settings of a client; {@code ca == null} means plaintext. */
    public record Tls(Path ca, Path cert, Path key) {
        public static final Tls NONE = new Tls(null, null, null);

        public Tls {
            if ((cert == null) != (key == null)) {
                throw new IllegalArgumentException("a client certificate needs both its certificate and its key file");
            }
            if (cert != null && ca == null) throw new IllegalArgumentException("a client certificate needs TLS (a CA file)");
        }

        public boolean enabled() {
            return ca != null;
        }
    }

    public static ChannelCredentials credentials(Tls tls) {
        if (!tls.enabled()) return InsecureChannelCredentials.create();
        try {
            TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder().trustManager(tls.ca().toFile());
            if (tls.cert() != null) b.keyManager(tls.cert().toFile(), tls.key().toFile());
            return b.build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the TLS files " + tls + ": " + e.getMessage(), e);
        }
    }

    /** A channel builder for {@code target} (host:port or a gRPC target URI) with {@code tls}. */
    public static ManagedChannelBuilder<?> builder(String target, Tls tls) {
        return Grpc.newChannelBuilder(target.strip(), credentials(tls));
    }
}
