{{/*
The objects of one mates service (ConfigMap, ServiceAccount, Deployment, Service), shared by the five
service templates. They call them with a dict:
  root        the root context
  component   trainer | oracle-prober | influence-model | scorer | scorer-worker
  values      the service's values (image, resources, env, extraEnv, nodeSelector, ...)
  port        the gRPC API port (the management port, /q/health and /q/metrics, is mates.managementPort)
  config      service-specific non-secret env (dict), on top of mates.sharedConfig
  replicas    replica count; key absent = no `replicas` field (an autoscaler owns it)
  strategy    Deployment strategy type ("" = RollingUpdate default)
  repository  image repository
  resources   container resources
  nodeSelector, tolerations   pod scheduling (after GPU merging)
  tmpSizeLimit                sizeLimit of the /tmp emptyDir
  extraVolumes, extraVolumeMounts   lists (the trainer's work dir)
  terminationGracePeriodSeconds     optional
*/}}

{{/* The env of the service as a sorted map: shared, then the two ports, then service config, then values.env. */}}
{{- define "mates.service.configData" -}}
{{- $data := fromYaml (include "mates.sharedConfig" .root) }}
{{- $_ := set $data "MATES_PORT" (toString .port) }}
{{- $_ := set $data "MATES_MANAGEMENT_PORT" (include "mates.managementPort" .root) }}
{{- range $k, $v := .config }}
{{- $_ := set $data $k (toString $v) }}
{{- end }}
{{- range $k, $v := (.values.env | default dict) }}
{{- $_ := set $data $k (toString $v) }}
{{- end }}
{{- range $k := keys $data | sortAlpha }}
{{ $k }}: {{ index $data $k | toString | quote }}
{{- end }}
{{- end }}

{{- define "mates.service.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "mates.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mates.labels" . | nindent 4 }}
data:
  {{- include "mates.service.configData" . | trim | nindent 2 }}
{{- end }}

{{- define "mates.service.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "mates.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mates.labels" . | nindent 4 }}
automountServiceAccountToken: false
{{- end }}

{{/* ClusterIP Service: port `grpc` (the API) and port `management` (/q/health, /q/metrics: what the ServiceMonitor
     scrapes). Extra args: headless (bool): only `grpc`, for the trainer's dns:/// resolution of the probers. */}}
{{- define "mates.service.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mates.componentName" . }}{{ if .headless }}-headless{{ end }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mates.labels" . | nindent 4 }}
    {{- if .headless }}
    {{- /* lets the ServiceMonitor skip it: the same pods are scraped through the ClusterIP Service */}}
    mates.dev/headless: "true"
    {{- end }}
spec:
  type: ClusterIP
  {{- if .headless }}
  clusterIP: None
  publishNotReadyAddresses: false
  {{- end }}
  selector:
    {{- include "mates.selectorLabels" . | nindent 4 }}
  ports:
    - name: grpc
      port: {{ .port }}
      targetPort: grpc
      protocol: TCP
    {{- if not .headless }}
    - name: management
      port: {{ include "mates.managementPort" .root }}
      targetPort: management
      protocol: TCP
    {{- end }}
{{- end }}

{{- define "mates.service.deployment" -}}
{{- $root := .root }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mates.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mates.labels" . | nindent 4 }}
spec:
  {{- if hasKey . "replicas" }}
  replicas: {{ .replicas }}
  {{- end }}
  {{- if .strategy }}
  strategy:
    type: {{ .strategy }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "mates.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "mates.labels" . | nindent 8 }}
      annotations:
        checksum/config: {{ include "mates.service.configmap" . | sha256sum }}
        {{- with .values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "mates.componentName" . }}
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with .terminationGracePeriodSeconds }}
      terminationGracePeriodSeconds: {{ . }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "mates.image" (dict "root" $root "repository" .repository "tag" .values.image.tag) | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          ports:
            - name: grpc
              containerPort: {{ .port }}
              protocol: TCP
            - name: management
              containerPort: {{ include "mates.managementPort" $root }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ include "mates.componentName" . }}
          env:
            {{- include "mates.secretEnv" $root | nindent 12 }}
            {{- if include "mates.tlsEnabled" $root }}
            {{- include "mates.tlsEnv" $root | nindent 12 }}
            {{- end }}
            {{- with .values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          resources:
            {{- toYaml .resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          startupProbe:
            httpGet:
              path: /q/health/started
              port: management
            {{- toYaml $root.Values.probes.startup | nindent 12 }}
          livenessProbe:
            httpGet:
              path: /q/health/live
              port: management
            {{- toYaml $root.Values.probes.liveness | nindent 12 }}
          readinessProbe:
            httpGet:
              path: /q/health/ready
              port: management
            {{- toYaml $root.Values.probes.readiness | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- include "mates.authVolumeMount" $root | nindent 12 }}
            {{- if include "mates.tlsEnabled" $root }}
            {{- include "mates.tlsVolumeMount" $root | nindent 12 }}
            {{- end }}
            {{- with .extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "mates.tmpVolume" .tmpSizeLimit | nindent 8 }}
        {{- include "mates.authVolume" $root | nindent 8 }}
        {{- if include "mates.tlsEnabled" $root }}
        {{- include "mates.tlsVolume" $root | nindent 8 }}
        {{- end }}
        {{- with .extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* ConfigMap, ServiceAccount, Deployment and Service of one service, as separate documents. */}}
{{- define "mates.service.all" -}}
{{ include "mates.service.configmap" . }}
---
{{ include "mates.service.serviceaccount" . }}
---
{{ include "mates.service.deployment" . }}
---
{{ include "mates.service.service" . }}
{{- end }}
