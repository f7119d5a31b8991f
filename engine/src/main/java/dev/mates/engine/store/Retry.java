package dev.mates.engine.store;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Bounded exponential backoff with jitter for operations that fail while a store or a peer is briefly away.
 *
 * <p>An operation is retried while its failure is retryable and the time since its first failure stays within the
 * <em>outage budget</em>; the wait before attempt {@code n} (n ≥ 1) is drawn uniformly from
 * {@code [b/2, b]} with {@code b = min(maxBackoff, initialBackoff · 2^(n-1))} ("equal jitter": callers that failed
 * together do not retry together, and each still waits at least half the nominal backoff). Past the budget the last
 * failure is thrown, wrapped in {@link OutageException} naming the operation and how long it was tried. A
 * non-retryable failure is thrown at once. The engine prints nothing: retries are reported to a {@link Observer}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class Retry {
    /** Told about each failed attempt that will be retried, and about giving up. */
    public interface Observer {
        /**
         * @param operation what was being done
         * @param attempt   1 for the first failure
         * @param waitMillis the wait before the next attempt
         */
        void retrying(String operation, int attempt, long waitMillis, Throwable failure);

        Observer NONE = (op, attempt, wait, failure) -> { };
    }

    /** Waits; tests replace it to run without sleeping. */
    public interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    /** The outage lasted longer than the budget: the cause is the last failure. */
    public static final class OutageException extends RuntimeException {
        public OutageException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The store is unavailable, or its cause chain holds a {@link StoreUnavailableException}. */
    public static final Predicate<Throwable> STORE_UNAVAILABLE = t -> {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof StoreUnavailableException) return true;
        }
        return false;
    };

    private final Duration initial;
    private final Duration max;
    private final Duration budget;
    private final Observer observer;
    private final Sleeper sleeper;
    private final java.util.function.LongSupplier clock;

    private Retry(Duration initial, Duration max, Duration budget, Observer observer, Sleeper sleeper,
                  java.util.function.LongSupplier clock) {
        if (initial.isNegative() || initial.isZero()) throw new IllegalArgumentException("initial backoff must be > 0, got " + initial);
        if (max.compareTo(initial) < 0) throw new IllegalArgumentException("max backoff " + max + " must be >= initial backoff " + initial);
        if (budget.isNegative()) throw new IllegalArgumentException("outage budget must be >= 0, got " + budget);
        this.initial = initial;
        this.max = max;
        this.budget = budget;
        this.observer = Objects.requireNonNull(observer, "observer");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * @param initialBackoff the nominal wait after the first failure
     * @param maxBackoff     the cap on the nominal wait
     * @param outageBudget   how long after its first failure an operation is still retried ({@code 0}: never)
     */
    public static Retry of(Duration initialBackoff, Duration maxBackoff, Duration outageBudget) {
        return new Retry(initialBackoff, maxBackoff, outageBudget, Observer.NONE, Thread::sleep, System::nanoTime);
    }

    /** No retries: every failure is thrown at once. */
    public static Retry none() {
        return of(Duration.ofMillis(1), Duration.ofMillis(1), Duration.ZERO);
    }

    public Retry observedBy(Observer o) {
        return new Retry(initial, max, budget, o, sleeper, clock);
    }

    /** For tests: a sleeper and a nanosecond clock of their own. */
    public Retry withClock(Sleeper s, java.util.function.LongSupplier nanoClock) {
        return new Retry(initial, max, budget, observer, s, nanoClock);
    }

    public Duration budget() {
        return budget;
    }

    /** The nominal (un-jittered) wait after the {@code attempt}-th failure (1-based). */
    public long nominalBackoffMillis(int attempt) {
        long b = initial.toMillis();
        for (int i = 1; i < attempt && b < max.toMillis(); i++) b *= 2;
        return Math.min(b, max.toMillis());
    }

    /** Runs {@code op}, retrying store unavailability ({@link #STORE_UNAVAILABLE}). */
    public <T> T call(String operation, Supplier<T> op) {
        return call(operation, op, STORE_UNAVAILABLE, () -> false);
    }

    public void run(String operation, Runnable op) {
        call(operation, () -> {
            op.run();
            return null;
        });
    }

    /**
     * Runs {@code op}, retrying failures that {@code retryable} accepts within the outage budget.
     *
     * @param stop checked before each wait: true gives up at once with the last failure (e.g. a cancelled run)
     */
    public <T> T call(String operation, Supplier<T> op, Predicate<Throwable> retryable, BooleanSupplier stop) {
        long firstFailure = 0;
        int attempt = 0;
        while (true) {
            try {
                return op.get();
            } catch (RuntimeException e) {
                if (!retryable.test(e)) throw e;
                long now = clock.getAsLong();
                if (attempt == 0) firstFailure = now;
                attempt++;
                long elapsedMillis = (now - firstFailure) / 1_000_000L;
                if (elapsedMillis >= budget.toMillis() || stop.getAsBoolean()) {
                    if (budget.isZero()) throw e;
                    throw new OutageException(operation + ": still failing after " + attempt + " attempt(s) over "
                            + elapsedMillis / 1000 + " s (outage budget " + budget.toSeconds() + " s): " + e.getMessage(), e);
                }
                long nominal = nominalBackoffMillis(attempt);
                long wait = nominal / 2 + ThreadLocalRandom.current().nextLong(nominal - nominal / 2 + 1);
                wait = Math.min(wait, Math.max(1, budget.toMillis() - elapsedMillis)); // do not sleep past the budget
                observer.retrying(operation, attempt, wait, e);
                try {
                    sleeper.sleep(wait);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }
}
