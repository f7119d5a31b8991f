package dev.mates.proto.auth;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;

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

    /**
     * A long-lived channel that follows its TLS files: at most every {@code checkEvery}, a new call first looks at the
     * files' sizes and modification times, and when they changed (a renewed certificate) it builds a fresh channel from
     * them; calls already running finish on the old one, which then shuts down. With TLS off it is one plain channel.
     */
    public static final class Reloading extends Channel implements AutoCloseable {
        private final Tls tls;
        private final Duration checkEvery;
        private final Function<Tls, ManagedChannel> factory;
        private volatile ManagedChannel current;
        private volatile String stamp;
        private volatile long checkedAt;

        public Reloading(Tls tls, Duration checkEvery, Function<Tls, ManagedChannel> factory) {
            this.tls = tls;
            this.checkEvery = checkEvery;
            this.factory = factory;
            this.stamp = stamp();
            this.current = factory.apply(tls);
            this.checkedAt = System.nanoTime();
        }

        private String stamp() {
            if (!tls.enabled()) return "";
            StringBuilder b = new StringBuilder();
            for (Path p : new Path[] {tls.ca(), tls.cert(), tls.key()}) {
                if (p == null) continue;
                try {
                    b.append(Files.getLastModifiedTime(p).toMillis()).append('/').append(Files.size(p)).append(';');
                } catch (IOException e) {
                    b.append("missing;");
                }
            }
            return b.toString();
        }

        private ManagedChannel channel() {
            if (tls.enabled() && System.nanoTime() - checkedAt >= checkEvery.toNanos()) {
                synchronized (this) {
                    if (System.nanoTime() - checkedAt >= checkEvery.toNanos()) {
                        checkedAt = System.nanoTime();
                        String now = stamp();
                        if (!now.equals(stamp)) {
                            try {
                                ManagedChannel fresh = factory.apply(tls);
                                ManagedChannel old = current;
                                current = fresh;
                                stamp = now;
                                old.shutdown(); // graceful: its running calls complete
                            } catch (RuntimeException e) {
                                // Half-written files (mid-renewal): keep the channel we have, look again later.
                            }
                        }
                    }
                }
            }
            return current;
        }

        @Override
        public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
            return channel().newCall(method, options);
        }

        @Override
        public String authority() {
            return current.authority();
        }

        @Override
        public void close() {
            current.shutdownNow();
        }
    }
}
