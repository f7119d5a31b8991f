package dev.mates.engine.store;

/**
 * A store (object store or state store) cannot be reached or answered with a server error. Retryable: the
 * services map it to gRPC UNAVAILABLE and readiness reports DOWN while it lasts.
 */
public class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
