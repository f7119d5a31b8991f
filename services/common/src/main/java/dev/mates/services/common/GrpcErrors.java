package dev.mates.services.common;

import dev.mates.engine.data.DataException;
import dev.mates.engine.pipeline.RunArtifacts;
import dev.mates.engine.pipeline.RunConfig;
import dev.mates.engine.store.StoreUnavailableException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quarkus.logging.Log;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The mapping from engine and store failures to gRPC status codes (docs/api.md): bad input → INVALID_ARGUMENT,
 * missing object → NOT_FOUND, store down → UNAVAILABLE (retryable); anything else is INTERNAL and logged.
 */
public final class GrpcErrors {
    private GrpcErrors() {}

    public static StatusRuntimeException invalid(String field, String message) {
        return Status.INVALID_ARGUMENT.withDescription(field + ": " + message).asRuntimeException();
    }

    public static StatusRuntimeException notFound(String field, String message) {
        return Status.NOT_FOUND.withDescription(field + ": " + message).asRuntimeException();
    }

    public static StatusRuntimeException precondition(String message) {
        return Status.FAILED_PRECONDITION.withDescription(message).asRuntimeException();
    }

    public static StatusRuntimeException exhausted(String field, String message) {
        return Status.RESOURCE_EXHAUSTED.withDescription(field + ": " + message).asRuntimeException();
    }

    public static StatusRuntimeException toStatus(Throwable t) {
        if (t instanceof StatusRuntimeException s) return s;
        if (t instanceof RunArtifacts.MissingObjectException m) {
            return Status.NOT_FOUND.withDescription("object not found: " + m.key()).asRuntimeException();
        }
        if (dev.mates.engine.store.Retry.STORE_UNAVAILABLE.test(t)) { // also an outage that outlasted the retries
            return Status.UNAVAILABLE.withDescription(t.getMessage()).withCause(t).asRuntimeException();
        }
        if (t instanceof dev.mates.adapters.s3.S3ObjectStore.ObjectTooLargeException) {
            return Status.RESOURCE_EXHAUSTED.withDescription(t.getMessage()).asRuntimeException();
        }
        if (t instanceof IllegalArgumentException || t instanceof RunConfig.ConfigException || t instanceof DataException) {
            return Status.INVALID_ARGUMENT.withDescription(t.getMessage()).asRuntimeException();
        }
        Log.errorf(t, "internal error");
        return Status.INTERNAL.withDescription(t.getClass().getSimpleName() + ": " + t.getMessage()).asRuntimeException();
    }

    /** Runs a unary call: the value on success, the mapped status on failure. */
    public static <T> void unary(StreamObserver<T> observer, Supplier<T> call) {
        unary(observer, call, GrpcErrors::toStatus);
    }

    /** As {@link #unary(StreamObserver, Supplier)}, with a service's own mapping of failures to statuses. */
    public static <T> void unary(StreamObserver<T> observer, Supplier<T> call,
                                 Function<Throwable, StatusRuntimeException> status) {
        T value;
        try {
            value = call.get();
        } catch (Throwable t) {
            observer.onError(status.apply(t));
            return;
        }
        observer.onNext(value);
        observer.onCompleted();
    }
}
