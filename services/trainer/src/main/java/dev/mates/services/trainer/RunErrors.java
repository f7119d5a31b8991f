package dev.mates.services.trainer;

/**
 * What can go wrong with a run request, as plain exceptions: the trainer's domain knows nothing of gRPC, and
 * {@link TrainerGrpcService} alone turns these into status codes (docs/api.md).
 */
final class RunErrors {
    private RunErrors() {}

    /** No run has this id (NOT_FOUND). */
    static final class NoSuchRun extends RuntimeException {
        NoSuchRun(String id) {
            super("run_id: no run '" + id + "'");
        }
    }

    /** A run with this id exists already (ALREADY_EXISTS). */
    static final class RunExists extends RuntimeException {
        RunExists(String id) {
            super("run_id: run '" + id + "' exists; use another id or ResumeRun");
        }
    }

    /** The run is not in a state that allows the request (FAILED_PRECONDITION). */
    static final class WrongState extends RuntimeException {
        WrongState(String message) {
            super(message);
        }
    }

    /** The caller may not have this run read that data (PERMISSION_DENIED). */
    static final class Denied extends RuntimeException {
        Denied(String message) {
            super(message);
        }
    }

    /** A limit of this trainer is reached, e.g. its concurrent runs (RESOURCE_EXHAUSTED). */
    static final class Busy extends RuntimeException {
        Busy(String message) {
            super(message);
        }
    }
}
