package dev.mates.services.common;

/**
 * Object references in messages: an {@code s3://bucket/key} URI of this deployment's bucket, or a bare key
 * relative to it. A reference to another bucket is INVALID_ARGUMENT naming the field.
 */
public final class Refs {
    private Refs() {}

    public static String key(String field, String ref, String bucket) {
        if (ref == null || ref.isBlank()) throw GrpcErrors.invalid(field, "is required (an s3://" + bucket + "/... reference or an object key)");
        if (ref.startsWith("s3://")) {
            String rest = ref.substring(5);
            int slash = rest.indexOf('/');
            String b = slash < 0 ? rest : rest.substring(0, slash);
            if (!b.equals(bucket) || slash < 0) {
                throw GrpcErrors.invalid(field, "'" + ref + "' is not in this deployment's bucket '" + bucket + "'");
            }
            return rest.substring(slash + 1);
        }
        if (ref.contains("://")) throw GrpcErrors.invalid(field, "'" + ref + "': only s3:// references or object keys are accepted");
        return ref.startsWith("/") ? ref.substring(1) : ref;
    }
}
