{{/*
Names, labels and the pieces every mates workload shares. Helpers that need more than the root context take
a dict: `root` (the root context) and `component` (trainer, oracle-prober, influence-model, scorer,
scorer-worker, redis, minio, bucket-init).
*/}}

{{/* Chart name, or nameOverride. Feeds the app.kubernetes.io/name label. */}}
{{- define "mates.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every object name: the release name when it already contains the chart name, else <release>-<chart>. */}}
{{- define "mates.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* helm.sh/chart label value. */}}
{{- define "mates.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <fullname>-<component>. Args: root, component. */}}
{{- define "mates.componentName" -}}
{{- printf "%s-%s" (include "mates.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels (never change for the life of a release). Args: root, component. */}}
{{- define "mates.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mates.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of the release's pods that are not its selectors' (used where a selector must match all of them). */}}
{{- define "mates.instanceSelectorLabels" -}}
app.kubernetes.io/name: {{ include "mates.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Metadata labels of every object and pod. Args: root, component. */}}
{{- define "mates.labels" -}}
helm.sh/chart: {{ include "mates.chart" .root }}
{{ include "mates.selectorLabels" . }}
app.kubernetes.io/part-of: mates
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* A mates image: [registry/]repository:tag. Args: root, repository, tag (may be empty). */}}
{{- define "mates.image" -}}
{{- $tag := .tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- $registry := .root.Values.image.registry | trimSuffix "/" -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .repository (toString $tag) -}}
{{- else -}}
{{- printf "%s:%s" .repository (toString $tag) -}}
{{- end -}}
{{- end }}

{{/* Name of the Secret holding the Redis password. */}}
{{- define "mates.redisSecretName" -}}
{{- .Values.redis.auth.existingSecret | default (include "mates.componentName" (dict "root" . "component" "redis")) }}
{{- end }}

{{/* Name of the Secret holding the object-store access key and secret key. */}}
{{- define "mates.objectStoreSecretName" -}}
{{- .Values.objectStore.auth.existingSecret | default (include "mates.componentName" (dict "root" . "component" "object-store")) }}
{{- end }}

{{/* Name of the Secret the SERVICES read their S3 key pair from: with bundled MinIO the services' own MinIO user
     (created by the bucket Job; never the root user), with an external store objectStore.auth.existingSecret. */}}
{{- define "mates.objectStoreServiceSecretName" -}}
{{- if .Values.objectStore.bundled }}
{{- dig "minio" "serviceUser" "existingSecret" "" .Values.objectStore | default (include "mates.componentName" (dict "root" . "component" "object-store-user")) }}
{{- else }}
{{- include "mates.objectStoreSecretName" . }}
{{- end }}
{{- end }}

{{/* Management port (Quarkus management interface: /q/health/*, /q/metrics) of every mates service. The
     default covers `helm upgrade --reuse-values` from a release older than the value. */}}
{{- define "mates.managementPort" -}}
{{- .Values.managementPort | default 9090 }}
{{- end }}

{{/* Redis ACL user of the services: redis.acl.username (bundled; the chart creates it) or
     redis.external.username (empty: the default user). */}}
{{- define "mates.redisUsername" -}}
{{- if .Values.redis.bundled }}
{{- dig "acl" "username" "mates" .Values.redis }}
{{- else }}
{{- dig "external" "username" "" .Values.redis }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the gRPC bearer tokens (keys `token` and `internal-token`). `auth` may be
     missing: `helm upgrade --reuse-values` from a release older than the tokens keeps only the old values. */}}
{{- define "mates.authSecretName" -}}
{{- (.Values.auth | default dict).existingSecret | default (include "mates.componentName" (dict "root" . "component" "auth")) }}
{{- end }}

{{/* Where the auth Secret is mounted (a directory: a subPath mount would never see a rotated token). */}}
{{- define "mates.authMountPath" -}}
/var/run/mates/auth
{{- end }}

{{/* "true" when TLS is on for the gRPC ports. `tls` may be missing (`helm upgrade --reuse-values` from an older release). */}}
{{- define "mates.tlsEnabled" -}}
{{- if dig "enabled" false (.Values.tls | default dict) }}true{{ end }}
{{- end }}

{{/* "true" when the chart renders a cert-manager Certificate for the services (TLS on and certManager.enabled). */}}
{{- define "mates.tlsCertManager" -}}
{{- if and (include "mates.tlsEnabled" .) (dig "certManager" "enabled" false (.Values.tls | default dict)) }}true{{ end }}
{{- end }}

{{/* Name of the Secret with tls.crt, tls.key and ca.crt: tls.existingSecret, or the Certificate's <fullname>-tls. */}}
{{- define "mates.tlsSecretName" -}}
{{- (.Values.tls | default dict).existingSecret | default (include "mates.componentName" (dict "root" . "component" "tls")) }}
{{- end }}

{{/* Where the TLS Secret is mounted: the services' default mates.tls.cert-file, key-file, ca-file live here. */}}
{{- define "mates.tlsMountPath" -}}
/var/run/mates/tls
{{- end }}

{{/* The Quarkus profiles of the services with TLS on: the packaged default `prod`, plus `tls` (TLS on the gRPC port). */}}
{{- define "mates.tlsEnv" -}}
- name: QUARKUS_PROFILE
  value: "prod,tls"
{{- end }}

{{/*
The TLS Secret as a volume of every mates service pod, like the auth Secret: a whole directory (never subPath, so a
renewed Secret reaches the files), mode 0440 (root, group = the pod's fsGroup), the three keys listed so that a
Secret lacking one (an ACME certificate has no ca.crt) stops the pod instead of starting a service that cannot
verify its peers. Arg: root context.
*/}}
{{- define "mates.tlsVolume" -}}
- name: tls
  secret:
    secretName: {{ include "mates.tlsSecretName" . }}
    defaultMode: 0440
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
      - key: ca.crt
        path: ca.crt
{{- end }}

{{/* The mount of mates.tlsVolume. Arg: root context. */}}
{{- define "mates.tlsVolumeMount" -}}
- name: tls
  mountPath: {{ include "mates.tlsMountPath" . }}
  readOnly: true
{{- end }}

{{/*
DNS names of the services' certificate, one per line: every Service of the release with a gRPC port (the prober's
headless one included: the trainer dials dns:///<fullname>-oracle-prober-headless), each as <name>,
<name>.<namespace>, <name>.<namespace>.svc and <name>.<namespace>.svc.<clusterDomain>, then extraDnsNames.
*/}}
{{- define "mates.tlsDnsNames" -}}
{{- $cm := dig "certManager" dict (.Values.tls | default dict) }}
{{- $domain := $cm.clusterDomain | default "cluster.local" }}
{{- $ns := .Release.Namespace }}
{{- $components := list "trainer" "oracle-prober" "oracle-prober-headless" "influence-model" "scorer-worker" }}
{{- if .Values.scorer.online.enabled }}
{{- $components = append $components "scorer" }}
{{- end }}
{{- range $components }}
{{- $name := include "mates.componentName" (dict "root" $ "component" .) }}
{{ $name }}
{{ printf "%s.%s" $name $ns }}
{{ printf "%s.%s.svc" $name $ns }}
{{ printf "%s.%s.svc.%s" $name $ns $domain }}
{{- end }}
{{- range ($cm.extraDnsNames | default list) }}
{{ . }}
{{- end }}
{{- end }}

{{/* Redis host: the bundled Service (namespace-qualified: the KEDA operator resolves it from its own namespace)
     or redis.external.host. */}}
{{- define "mates.redisHost" -}}
{{- if .Values.redis.bundled }}
{{- printf "%s.%s.svc" (include "mates.componentName" (dict "root" . "component" "redis")) .Release.Namespace }}
{{- else }}
{{- .Values.redis.external.host }}
{{- end }}
{{- end }}

{{/* Redis host:port, as the services and the KEDA trigger use it. */}}
{{- define "mates.redisAddress" -}}
{{- if .Values.redis.bundled }}
{{- printf "%s:6379" (include "mates.redisHost" .) }}
{{- else }}
{{- printf "%s:%v" (include "mates.redisHost" .) .Values.redis.external.port }}
{{- end }}
{{- end }}

{{/* true when the services connect to Redis with TLS (external Redis only). */}}
{{- define "mates.redisTls" -}}
{{- if and (not .Values.redis.bundled) .Values.redis.external.tls }}true{{ end }}
{{- end }}

{{/* S3 endpoint URL: the bundled MinIO Service or objectStore.external.endpoint. */}}
{{- define "mates.objectStoreEndpoint" -}}
{{- if .Values.objectStore.bundled }}
{{- printf "http://%s:9000" (include "mates.componentName" (dict "root" . "component" "minio")) }}
{{- else }}
{{- .Values.objectStore.external.endpoint }}
{{- end }}
{{- end }}

{{/*
How the scorer workers scale: keda, hpa or none. `auto` picks keda when the cluster serves
keda.sh/v1alpha1/ScaledObject (helm template: pass --api-versions keda.sh/v1alpha1/ScaledObject), else hpa.
*/}}
{{- define "mates.autoscalingMode" -}}
{{- $mode := .Values.scorer.worker.autoscaling.mode }}
{{- if eq $mode "auto" }}
{{- if .Capabilities.APIVersions.Has "keda.sh/v1alpha1/ScaledObject" }}keda{{ else }}hpa{{ end }}
{{- else }}
{{- $mode }}
{{- end }}
{{- end }}

{{/* Settings that cannot be expressed in values.schema.json (they depend on each other). */}}
{{- define "mates.validate" -}}
{{- if and (not .Values.redis.bundled) (not .Values.redis.external.host) }}
{{- fail "redis.external.host is required when redis.bundled is false (the host of your Redis)" }}
{{- end }}
{{- if and (not .Values.redis.bundled) (not .Values.redis.auth.existingSecret) }}
{{- fail "redis.auth.existingSecret is required when redis.bundled is false: the name of a Secret holding the external Redis password under redis.auth.passwordKey" }}
{{- end }}
{{- if and (not .Values.objectStore.bundled) (not .Values.objectStore.external.endpoint) }}
{{- fail "objectStore.external.endpoint is required when objectStore.bundled is false (e.g. https://s3.example.com)" }}
{{- end }}
{{- if and (not .Values.objectStore.bundled) (not .Values.objectStore.auth.existingSecret) }}
{{- fail "objectStore.auth.existingSecret is required when objectStore.bundled is false: the name of a Secret holding the S3 credentials under objectStore.auth.accessKeyKey and objectStore.auth.secretKeyKey" }}
{{- end }}
{{- $mgmt := int (include "mates.managementPort" .) }}
{{- range $name, $port := dict "trainer.port" .Values.trainer.port "oracleProber.port" .Values.oracleProber.port "influenceModel.port" .Values.influenceModel.port "scorer.port" .Values.scorer.port }}
{{- if eq (int $port) $mgmt }}
{{- fail (printf "managementPort (%v) must differ from %s (%v): health and metrics are served on their own port" $mgmt $name $port) }}
{{- end }}
{{- end }}
{{- if and .Values.redis.bundled (eq (include "mates.redisUsername" .) "default") }}
{{- fail "redis.acl.username must not be \"default\": the bundled Redis disables its default user and gives the services a user of their own" }}
{{- end }}
{{- if .Values.networkPolicy.trainerFrom }}
{{- fail "networkPolicy.trainerFrom was removed: the trainer admits pods labelled networkPolicy.trainerClients.podLabels (mates.dev/trainer-client: \"true\") in the release's namespace and, with networkPolicy.trainerClients.namespaceSelector, in other namespaces; label the clients and drop trainerFrom" }}
{{- end }}
{{- $tls := .Values.tls | default dict }}
{{- $cm := dig "certManager" dict $tls }}
{{- if $tls.enabled }}
{{- if and $tls.existingSecret $cm.enabled }}
{{- fail "tls.existingSecret and tls.certManager.enabled are both set: the services use one certificate, either your Secret or the one cert-manager issues into <fullname>-tls; unset one" }}
{{- end }}
{{- if not (or $tls.existingSecret $cm.enabled) }}
{{- fail "tls.enabled is true but no certificate is configured: set tls.existingSecret (a Secret with the keys tls.crt, tls.key and ca.crt) or tls.certManager.enabled=true with tls.certManager.issuerRef.name (a cert-manager Issuer or ClusterIssuer)" }}
{{- end }}
{{- if and $cm.enabled (not (dig "issuerRef" "name" "" $cm)) }}
{{- fail "tls.certManager.issuerRef.name is required with tls.certManager.enabled: the cert-manager Issuer (or ClusterIssuer, with tls.certManager.issuerRef.kind) that signs the services' certificate" }}
{{- end }}
{{- end }}
{{- $as := .Values.scorer.worker.autoscaling }}
{{- if gt (int $as.minReplicas) (int $as.maxReplicas) }}
{{- fail (printf "scorer.worker.autoscaling.minReplicas (%v) must not exceed scorer.worker.autoscaling.maxReplicas (%v)" $as.minReplicas $as.maxReplicas) }}
{{- end }}
{{- end }}

{{/*
Non-secret env shared by every mates service, as a dict (the per-service ConfigMap adds its own keys and
the service's `env` map on top). Arg: root context; port is added by the caller.
*/}}
{{- define "mates.sharedConfig" -}}
MATES_OBJECT_STORE_ENDPOINT: {{ include "mates.objectStoreEndpoint" . | quote }}
MATES_OBJECT_STORE_BUCKET: {{ .Values.objectStore.bucket | quote }}
MATES_OBJECT_STORE_REGION: {{ .Values.objectStore.region | quote }}
MATES_REDIS_KEY_PREFIX: {{ .Values.redis.keyPrefix | quote }}
MATES_QUEUE_STREAM: {{ .Values.queue.stream | quote }}
MATES_QUEUE_GROUP: {{ .Values.queue.group | quote }}
MATES_QUEUE_DEAD_LETTER_STREAM: {{ .Values.queue.deadLetterStream | quote }}
MATES_QUEUE_MAX_DELIVERIES: {{ .Values.queue.maxDeliveries | quote }}
MATES_QUEUE_CLAIM_IDLE: {{ .Values.queue.claimIdle | quote }}
JAVA_OPTS_APPEND: {{ .Values.javaOptsAppend | quote }}
DJL_CACHE_DIR: "/tmp/djl"
HOME: "/tmp"
{{- end }}

{{/*
Secret env of every mates service, then the Redis URI built from the username and password. Order matters: a
$(VAR) reference only expands variables defined before it.
*/}}
{{- define "mates.secretEnv" -}}
- name: MATES_OBJECT_STORE_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "mates.objectStoreServiceSecretName" . }}
      key: {{ .Values.objectStore.auth.accessKeyKey }}
- name: MATES_OBJECT_STORE_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "mates.objectStoreServiceSecretName" . }}
      key: {{ .Values.objectStore.auth.secretKeyKey }}
{{- /* The username is an env var of its own (empty: the default user) so that KEDA's TriggerAuthentication can
     read it from the worker container. */}}
- name: MATES_REDIS_USERNAME
  value: {{ include "mates.redisUsername" . | quote }}
- name: MATES_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "mates.redisSecretName" . }}
      key: {{ .Values.redis.auth.passwordKey }}
- name: MATES_REDIS_URI
  value: {{ printf "%s://$(MATES_REDIS_USERNAME):$(MATES_REDIS_PASSWORD)@%s" (ternary "rediss" "redis" (eq (include "mates.redisTls" .) "true")) (include "mates.redisAddress" .) | quote }}
{{- /* Every service gets both token files: a client token on an internal service is then PERMISSION_DENIED
     (a known token of the wrong kind) rather than UNAUTHENTICATED. */}}
- name: MATES_AUTH_TOKEN_FILE
  value: {{ printf "%s/token" (include "mates.authMountPath" .) | quote }}
- name: MATES_AUTH_INTERNAL_TOKEN_FILE
  value: {{ printf "%s/internal-token" (include "mates.authMountPath" .) | quote }}
{{- end }}

{{/*
The auth Secret as a volume of every mates service pod. A whole-directory mount (never subPath): the kubelet
swaps in a new version of the Secret within about a minute and the services re-read the files, so a token
rotation needs no restart. Mode 0440: owned by root, group = the pod's fsGroup (185), so the service user
(uid 185, gid 185) can read the files and nobody else can. Arg: root context.
*/}}
{{- define "mates.authVolume" -}}
- name: auth
  secret:
    secretName: {{ include "mates.authSecretName" . }}
    defaultMode: 0440
    items:
      - key: token
        path: token
      - key: internal-token
        path: internal-token
{{- end }}

{{/* The mount of mates.authVolume. Arg: root context. */}}
{{- define "mates.authVolumeMount" -}}
- name: auth
  mountPath: {{ include "mates.authMountPath" . }}
  readOnly: true
{{- end }}

{{/* The /tmp emptyDir every pod mounts (the root filesystem is read-only). Arg: sizeLimit. */}}
{{- define "mates.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ . }}
{{- end }}

{{/* A volumeClaimTemplate `data`. Args: root, component, persistence (enabled, size, storageClass). */}}
{{- define "mates.dataClaim" -}}
- metadata:
    name: data
    labels:
      {{- include "mates.labels" . | nindent 6 }}
  spec:
    accessModes:
      - ReadWriteOnce
    {{- with .persistence.storageClass }}
    storageClassName: {{ . | quote }}
    {{- end }}
    resources:
      requests:
        storage: {{ .persistence.size }}
{{- end }}
