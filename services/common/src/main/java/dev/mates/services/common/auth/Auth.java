package dev.mates.services.common.auth;

import dev.mates.proto.auth.TokenFile;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The tokens a service accepts, and the one the trainer sends to the internal services (docs/security.md).
 * <ul>
 *   <li>{@code mates.auth.token-file} — client tokens: people and programs that drive runs or call the online scorer;</li>
 *   <li>{@code mates.auth.internal-token-file} — the service token: the trainer calling the probers and the
 *       influence model.</li>
 * </ul>
 * Each service lists in {@code mates.auth.required} the files it cannot work without; a missing one stops the
 * service at start-up with the setting's name. There is no default token and no switch that turns checking off:
 * a call whose kind of token is not configured is refused.
 */
@ApplicationScoped
public class Auth {
    /** Who a token speaks for. */
    public enum Kind {
        CLIENT("mates.auth.token-file", "MATES_AUTH_TOKEN_FILE"),
        INTERNAL("mates.auth.internal-token-file", "MATES_AUTH_INTERNAL_TOKEN_FILE");

        final String setting;
        final String env;

        Kind(String setting, String env) {
            this.setting = setting;
            this.env = env;
        }

        public String setting() {
            return setting;
        }
    }

    @ConfigProperty(name = "mates.auth.token-file")
    Optional<Path> clientFile;
    @ConfigProperty(name = "mates.auth.internal-token-file")
    Optional<Path> internalFile;
    @ConfigProperty(name = "mates.auth.required", defaultValue = "client,internal")
    List<String> required;

    private volatile TokenFile client;
    private volatile TokenFile internal;

    /** Fails the start-up when a required token file is missing (the bean is created by this observer at the latest). */
    void onStart(@Observes StartupEvent e) {
        // load() ran when the bean was created
    }

    @PostConstruct
    void load() {
        client = clientFile.map(p -> TokenFile.open(Kind.CLIENT.setting, p)).orElse(null);
        internal = internalFile.map(p -> TokenFile.open(Kind.INTERNAL.setting, p)).orElse(null);
        for (String r : required) {
            Kind k = Kind.valueOf(r.strip().toUpperCase(java.util.Locale.ROOT));
            if (file(k) == null) {
                throw new IllegalStateException(k.setting + " is not set: this service needs it (env " + k.env
                        + ", a file with one token per line; `openssl rand -hex 32 > token` makes one). See docs/security.md.");
            }
        }
    }

    private TokenFile file(Kind k) {
        return k == Kind.CLIENT ? client : internal;
    }

    /** The kinds {@code presented} is a token of (empty if it is none of the configured tokens). */
    public Set<Kind> kindsOf(String presented) {
        Set<Kind> out = EnumSet.noneOf(Kind.class);
        for (Kind k : Kind.values()) {
            TokenFile f = file(k);
            if (f != null && f.accepts(presented)) out.add(k);
        }
        return out;
    }

    /** The service token this process sends to the internal services. */
    public TokenFile internalToken() {
        if (internal == null) throw new IllegalStateException(Kind.INTERNAL.setting + " is not set: the trainer needs it to call the other services");
        return internal;
    }
}
