package dev.mates.engine.data;

/**
 * An input problem the user must fix. The message names the input (file or flag), the place and what to do, so
 * that it can be shown as-is without a stack trace.
 */
public class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
