package dev.mates.deploy;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;
import java.util.Map;

/**
 * Typed model of the cert-manager resource the manifests use (cert-manager.io/v1 Certificate), written from
 * cert-manager's API reference: fabric8 has none on this classpath. Parsed with unknown fields failing, like the
 * fabric8 models.
 */
final class CertManager {
    private CertManager() {
    }

    record Certificate(String apiVersion, String kind, ObjectMeta metadata, CertificateSpec spec) {
    }

    record CertificateSpec(Map<String, Object> subject, String literalSubject, String commonName, String duration, String renewBefore,
                           Integer renewBeforePercentage, List<String> dnsNames, List<String> ipAddresses, List<String> uris,
                           List<Map<String, Object>> otherNames, List<String> emailAddresses, String secretName, SecretTemplate secretTemplate,
                           Map<String, Object> keystores, IssuerRef issuerRef, Boolean isCA, List<String> usages, PrivateKey privateKey,
                           String signatureAlgorithm, Boolean encodeUsagesInRequest, Integer revisionHistoryLimit,
                           List<Map<String, Object>> additionalOutputFormats, Map<String, Object> nameConstraints) {
    }

    record SecretTemplate(Map<String, String> annotations, Map<String, String> labels) {
    }

    record IssuerRef(String name, String kind, String group) {
    }

    /** algorithm RSA | ECDSA | Ed25519; encoding PKCS1 (cert-manager's default) | PKCS8; rotationPolicy Never | Always. */
    record PrivateKey(String rotationPolicy, String encoding, String algorithm, Integer size) {
    }
}
