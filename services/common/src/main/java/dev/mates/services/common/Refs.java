package dev.mates.services.common;

import io.grpc.Status;
import java.util.regex.Pattern;

/**
 * Object references in messages: an {@code s3://bucket/key} URI of this deployment's bucket, or a bare key
 * relative to it. A reference to another bucket, an empty key (the whole bucket), an absolute key and a key with
 * {@code .} or {@code ..} segments are INVALID_ARGUMENT naming the field; a key outside the run's own prefix
 * ({@code runs/<run>/}) is PERMISSION_DENIED, so one run's caller can neither read nor overwrite another run's objects.
 */
public final class Refs {
    /** A run id, as the trainer accepts it. */
    public static final Pattern RUN_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern RUN_KEY = Pattern.compile("runs/" + RUN_ID.pattern() + "/.+");

    private Refs() {}

    public static String key(String field, String ref, String bucket) {
        if (ref == null || ref.isBlank()) throw GrpcErrors.invalid(field, "is required (an s3://" + bucket + "/... reference or an object key)");
        String key = ref;
        if (ref.startsWith("s3://")) {
            String rest = ref.substring(5);
            int slash = rest.indexOf('/');
            String b = slash < 0 ? rest : rest.substring(0, slash);
            if (!b.equals(bucket) || slash < 0) {
                throw GrpcErrors.invalid(field, "'" + ref + "' is not in this deployment's bucket '" + bucket + "'");
            }
            key = rest.substring(slash + 1);
        } else if (ref.contains("://")) {
            throw GrpcErrors.invalid(field, "'" + ref + "': only s3:// references or object keys are accepted");
        }
        checkKey(field, ref, key);
        return key;
    }

    /** {@link #key}, and the key must lie under {@code runs/<runId>/}. */
    public static String runKey(String field, String ref, String bucket, String runId) {
        if (runId == null || !RUN_ID.matcher(runId).matches()) {
            throw GrpcErrors.invalid("run_id", "'" + runId + "' must match " + RUN_ID.pattern());
        }
        String key = key(field, ref, bucket);
        if (!key.startsWith("runs/" + runId + "/") || key.length() == ("runs/" + runId + "/").length()) {
            throw Status.PERMISSION_DENIED.withDescription(field + ": '" + ref + "' is outside this run's objects (runs/"
                    + runId + "/...)").asRuntimeException();
        }
        return key;
    }

    /** {@link #key}, and the key must lie under some run's prefix {@code runs/<run>/} (a fitted model, for scoring). */
    public static String anyRunKey(String field, String ref, String bucket) {
        String key = key(field, ref, bucket);
        if (!RUN_KEY.matcher(key).matches()) {
            throw Status.PERMISSION_DENIED.withDescription(field + ": '" + ref + "' is not a run's object (runs/<run>/...)")
                    .asRuntimeException();
        }
        return key;
    }

    private static void checkKey(String field, String ref, String key) {
        if (key.isEmpty() || key.equals("/")) throw GrpcErrors.invalid(field, "'" + ref + "' names the whole bucket; give an object key or prefix");
        if (key.startsWith("/")) throw GrpcErrors.invalid(field, "'" + ref + "': an object key is relative (no leading '/')");
        String[] parts = key.split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.equals(".") || p.equals("..")) throw GrpcErrors.invalid(field, "'" + ref + "': '.' and '..' are not allowed in object keys");
            if (p.isEmpty() && i < parts.length - 1) throw GrpcErrors.invalid(field, "'" + ref + "': empty path segment ('//')");
        }
        for (int i = 0; i < key.length(); i++) {
            if (key.charAt(i) < 0x20 || key.charAt(i) == '\\') {
                throw GrpcErrors.invalid(field, "'" + ref + "': control characters and '\\' are not allowed in object keys");
            }
        }
    }
}
