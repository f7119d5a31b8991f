package dev.mates.services.common.auth;

import dev.mates.proto.auth.BearerToken;
import dev.mates.services.common.auth.Auth.Kind;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Authenticates every gRPC call of every service before it reaches the service: {@code UNAUTHENTICATED} without a
 * valid bearer token, {@code PERMISSION_DENIED} for a valid token of the wrong kind (a client token on an internal
 * method, for instance). The standard health service is open, so kubelet and load-balancer probes work; server
 * reflection (off unless {@code quarkus.grpc.server.enable-reflection-service=true}) needs any valid token; a service
 * not in the table is refused.
 */
@GlobalInterceptor
@ApplicationScoped
public class AuthInterceptor implements ServerInterceptor {
    private static final Set<Kind> OPEN = EnumSet.noneOf(Kind.class);
    private static final Set<Kind> ANY = EnumSet.allOf(Kind.class);
    /** gRPC service → the kinds of token that may call it (docs/security.md has the same table). */
    static final Map<String, Set<Kind>> POLICY = Map.of(
            "mates.v1.Trainer", EnumSet.of(Kind.CLIENT),
            "mates.v1.OracleProber", EnumSet.of(Kind.INTERNAL),
            "mates.v1.InfluenceModel", EnumSet.of(Kind.INTERNAL),
            "mates.v1.Scorer", EnumSet.of(Kind.CLIENT, Kind.INTERNAL),
            "grpc.health.v1.Health", OPEN,
            "grpc.reflection.v1.ServerReflection", ANY,
            "grpc.reflection.v1alpha.ServerReflection", ANY);

    @Inject
    Auth auth;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        String service = call.getMethodDescriptor().getServiceName();
        Set<Kind> allowed = POLICY.get(service);
        if (allowed == null) return refuse(call, Status.PERMISSION_DENIED.withDescription(method + ": not an API of this service"));
        if (allowed.isEmpty()) return next.startCall(call, headers);
        String header = headers.get(BearerToken.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, BearerToken.SCHEME, 0, BearerToken.SCHEME.length())) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription(method + ": no bearer token (send the header "
                    + "'authorization: Bearer <token>'; the mates CLI: set MATES_TOKEN or pass --token-file FILE)"));
        }
        Set<Kind> kinds = auth.kindsOf(header.substring(BearerToken.SCHEME.length()).strip());
        if (kinds.isEmpty()) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription(method + ": the bearer token is not valid here "
                    + "(wrong or rotated out; the mates CLI: set MATES_TOKEN or pass --token-file FILE)"));
        }
        for (Kind k : kinds) {
            if (allowed.contains(k)) return next.startCall(call, headers);
        }
        return refuse(call, Status.PERMISSION_DENIED.withDescription(method + ": a " + kinds.iterator().next().name().toLowerCase(java.util.Locale.ROOT)
                + " token may not call this method (it takes a " + allowed.iterator().next().name().toLowerCase(java.util.Locale.ROOT) + " token)"));
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
