package dev.mates.services.common;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Request limits (docs/api.md); above them a call fails with RESOURCE_EXHAUSTED naming the field. */
@ApplicationScoped
public class Limits {
    @ConfigProperty(name = "mates.limits.max-documents", defaultValue = "4096")
    int maxDocuments;
    @ConfigProperty(name = "mates.limits.max-document-chars", defaultValue = "1000000")
    int maxDocumentChars;

    public int maxDocuments() {
        return maxDocuments;
    }

    public int maxDocumentChars() {
        return maxDocumentChars;
    }
}
