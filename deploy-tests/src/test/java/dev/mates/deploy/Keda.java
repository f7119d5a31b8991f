package dev.mates.deploy;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import java.util.List;
import java.util.Map;

/**
 * Typed models of the KEDA resources the manifests use (keda.sh/v1alpha1, KEDA 2.x), written from KEDA's CRD
 * reference: fabric8 has none. Parsed with unknown fields failing, like the fabric8 models.
 */
final class Keda {
    private Keda() {
    }

    record ScaledObject(String apiVersion, String kind, ObjectMeta metadata, ScaledObjectSpec spec) {
    }

    record ScaledObjectSpec(ScaleTargetRef scaleTargetRef, Integer pollingInterval, Integer cooldownPeriod,
                            Integer initialCooldownPeriod, Integer idleReplicaCount, Integer minReplicaCount,
                            Integer maxReplicaCount, Fallback fallback, Advanced advanced, List<Trigger> triggers) {
    }

    record ScaleTargetRef(String apiVersion, String kind, String name, String envSourceContainerName) {
    }

    record Fallback(Integer failureThreshold, Integer replicas, String behavior) {
    }

    record Advanced(Boolean restoreToOriginalReplicaCount, HpaConfig horizontalPodAutoscalerConfig,
                    ScalingModifiers scalingModifiers) {
    }

    record HpaConfig(String name, HorizontalPodAutoscalerBehavior behavior) {
    }

    record ScalingModifiers(String formula, String target, String activationTarget, String metricType) {
    }

    /** Trigger metadata values are strings in KEDA's CRD: a bare number is rejected by the API server. */
    record Trigger(String type, String name, Map<String, String> metadata, AuthenticationRef authenticationRef,
                   String metricType, Boolean useCachedMetrics) {
    }

    record AuthenticationRef(String name, String kind) {
    }

    record TriggerAuthentication(String apiVersion, String kind, ObjectMeta metadata, TriggerAuthenticationSpec spec) {
    }

    record TriggerAuthenticationSpec(List<SecretTargetRef> secretTargetRef, List<EnvTargetRef> env) {
    }

    record SecretTargetRef(String parameter, String name, String key) {
    }

    record EnvTargetRef(String parameter, String name, String containerName) {
    }
}
