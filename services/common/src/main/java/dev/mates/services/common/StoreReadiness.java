package dev.mates.services.common;

import dev.mates.adapters.redis.RedisStateStore;
import dev.mates.adapters.s3.S3ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.List;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Ready when every store this service needs ({@code mates.health.stores}: s3, redis) answers. */
@Readiness
@ApplicationScoped
public class StoreReadiness implements HealthCheck {
    @ConfigProperty(name = "mates.health.stores", defaultValue = "s3")
    List<String> stores;
    @Inject
    Instance<S3ObjectStore> s3;
    @Inject
    Instance<RedisStateStore> redis;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("mates-stores").up();
        for (String store : stores) {
            try {
                switch (store.strip()) {
                    case "s3" -> {
                        S3ObjectStore o = s3.get();
                        o.ping();
                        o.ensureBucket();
                        b.withData("s3", o.endpoint() + "/" + o.bucket() + " up");
                    }
                    case "redis" -> {
                        redis.get().ping();
                        b.withData("redis", "up");
                    }
                    default -> throw new IllegalStateException("mates.health.stores: unknown store '" + store + "' (s3, redis)");
                }
            } catch (RuntimeException e) {
                b.down().withData(store.strip(), String.valueOf(e.getMessage()));
            }
        }
        return b.build();
    }

}
