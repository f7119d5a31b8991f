package dev.mates.proto.auth;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.function.Supplier;

/**
 * The client side of mates' authentication: every call carries {@code authorization: Bearer <token>}. The token is
 * looked up per call, so a rotated token file is picked up by long-lived channels.
 */
public final class BearerToken implements ClientInterceptor {
    public static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    public static final String SCHEME = "Bearer ";

    private final Supplier<String> token;

    private BearerToken(Supplier<String> token) {
        this.token = token;
    }

    public static BearerToken of(Supplier<String> token) {
        return new BearerToken(token);
    }

    public static BearerToken of(TokenFile file) {
        return new BearerToken(file::token);
    }

    /** {@code channel} with every call authenticated. */
    public static Channel authenticated(Channel channel, Supplier<String> token) {
        return ClientInterceptors.intercept(channel, of(token));
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                headers.put(AUTHORIZATION, SCHEME + token.get());
                super.start(listener, headers);
            }
        };
    }
}
