{{/*
rainbow-system helpers. Names are prefixed with the chart name so that they never clash with a
parent chart's helpers.
*/}}

{{/* Base name: "rainbow" (the product), or nameOverride. */}}
{{- define "rainbow-system.name" -}}
{{- .Values.nameOverride | default "rainbow" | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/*
Prefix of every object name: fullnameOverride, else the release name when it contains the base
name, else <release>-<name>. Release "rainbow" gives rainbow-webhook, rainbow-controller, ...
Kept to 40 characters so that the longest suffix (-controller-leader-election) fits in 63.
*/}}
{{- define "rainbow-system.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "rainbow-system.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "rainbow-system.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "rainbow-system.labels" -}}
helm.sh/chart: {{ include "rainbow-system.chart" . }}
app.kubernetes.io/name: {{ include "rainbow-system.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rainbow
{{- end -}}

{{/* Labels of one component's objects. Call with (dict "ctx" $ "component" "webhook"). */}}
{{- define "rainbow-system.componentLabels" -}}
{{ include "rainbow-system.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
Selector of one component's pods: name, instance, component. Nothing that changes with the
chart or app version (a Deployment's selector is immutable).
*/}}
{{- define "rainbow-system.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rainbow-system.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one component's pods: its podLabels under the fixed labels. */}}
{{- define "rainbow-system.podLabels" -}}
{{- $fixed := fromYaml (include "rainbow-system.componentLabels" .) -}}
{{- $extra := (index .ctx.Values .component).podLabels | default (dict) -}}
{{- toYaml (merge (dict) $fixed $extra) -}}
{{- end -}}

{{/*
The rainbow image: <repository>@<digest> when image.digest is set, else <repository>:<tag>, the
tag defaulting to the chart's appVersion.
*/}}
{{- define "rainbow-system.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if kindIs "float64" $tag }}{{ $tag = int64 $tag }}{{ end -}}
{{- printf "%s:%v" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The /tmp volume of a pod: an emptyDir, at most tmp.sizeLimit (none when it is null or empty). */}}
{{- define "rainbow-system.tmpVolume" -}}
{{- with .Values.tmp.sizeLimit -}}
emptyDir:
  sizeLimit: {{ . }}
{{- else -}}
emptyDir: {}
{{- end -}}
{{- end -}}

{{/*
Fails when a probe names a port (httpGet.port or tcpSocket.port given as a string) that its
container does not have: Kubernetes would take the pod and never find the port. Call with
(dict "probes" (dict "webhook.readinessProbe" $probe ...) "ports" (list "https")).
*/}}
{{- define "rainbow-system.checkProbePorts" -}}
{{- $ports := .ports -}}
{{- range $key, $probe := .probes -}}
{{- range $handler := list "httpGet" "tcpSocket" -}}
{{- $h := index ($probe | default dict) $handler -}}
{{- if and $h (kindIs "map" $h) (kindIs "string" $h.port) (not (has $h.port $ports)) -}}
{{- fail (printf "%s.%s.port is %q, but the container has no port of that name (it has: %s): name one of those, or give a number" $key $handler $h.port (join ", " $ports)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "rainbow-system.webhookName" -}}{{ include "rainbow-system.fullname" . }}-webhook{{- end -}}
{{- define "rainbow-system.controllerName" -}}{{ include "rainbow-system.fullname" . }}-controller{{- end -}}
{{- define "rainbow-system.tlsSecretName" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "rainbow-system.fullname" .)) -}}
{{- end -}}

{{/* Is the webhook in the cluster (no webhook.url)? "true" or "". */}}
{{- define "rainbow-system.webhookInCluster" -}}
{{- if not .Values.webhook.url }}true{{ end -}}
{{- end -}}

{{/*
Does the webhook bootstrap its own TLS (`rainbow webhook --tls-secret`: certificate made with
`selfsigned`, kept in <fullname>-tls, CA injected into the webhook configurations)? "true" or "".
Yes in the cluster unless tls.existingSecret brings a certificate.
*/}}
{{- define "rainbow-system.tlsBootstrap" -}}
{{- if and (not .Values.webhook.url) (not .Values.tls.existingSecret) }}true{{ end -}}
{{- end -}}

{{/* DNS names of the webhook Service, for its certificate. */}}
{{- define "rainbow-system.webhookDNSNames" -}}
{{- $svc := include "rainbow-system.webhookName" . -}}
{{- $ns := .Release.Namespace -}}
{{- toJson (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain)) -}}
{{- end -}}

{{/*
A caBundle value: base64 of a PEM. A PEM given as it is gets encoded. Anything that is neither
fails with a message naming the value. Call with (dict "value" ... "key" "webhook.caBundle").
*/}}
{{- define "rainbow-system.caBundle" -}}
{{- $v := .value | toString | trim -}}
{{- if hasPrefix "-----BEGIN" $v -}}
{{- $v = b64enc (printf "%s\n" $v) -}}
{{- end -}}
{{- if not (contains "-----BEGIN CERTIFICATE-----" (b64dec $v)) -}}
{{- fail (printf "%s must be a CA certificate: base64 of a PEM (-----BEGIN CERTIFICATE----- ...), e.g. $(base64 -w0 ca.crt)" .key) -}}
{{- end -}}
{{- $v -}}
{{- end -}}

{{/*
Seconds in a Go duration (60s, 1m30s, 500ms) or a bare number of seconds, as a float.
*/}}
{{- define "rainbow-system.seconds" -}}
{{- $d := toString . -}}
{{- if regexMatch "^[0-9]+(\\.[0-9]+)?$" $d -}}
{{- $d -}}
{{- else -}}
{{- $units := dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "μs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 -}}
{{- $total := 0.0 -}}
{{- range regexFindAll "([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)" $d -1 -}}
{{- $n := regexFind "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)" . -}}
{{- $unit := trimPrefix $n . -}}
{{- $total = addf $total (mulf (float64 $n) (index $units $unit)) -}}
{{- end -}}
{{- $total -}}
{{- end -}}
{{- end -}}

{{/*
Checks of values that values.schema.json cannot express (and a second line of defence for
`helm install --skip-schema-validation`). Renders nothing.
*/}}
{{- define "rainbow-system.validate" -}}
{{- with .Values.webhook.url -}}
{{- if not (hasPrefix "https://" .) -}}
{{- fail (printf "webhook.url must start with https:// (the API server calls webhooks over TLS only), got %q" .) -}}
{{- end -}}
{{- if not $.Values.webhook.caBundle -}}
{{- fail "webhook.url is set, so webhook.caBundle is required: the CA (base64 PEM) that signed the external webhook's certificate, e.g. rainbow webhook --self-signed --ca-bundle-out ca.crt, then --set webhook.caBundle=$(base64 -w0 ca.crt)" -}}
{{- end -}}
{{- end -}}
{{- $timeout := int .Values.webhook.timeoutSeconds -}}
{{- if or (lt $timeout 1) (gt $timeout 30) -}}
{{- fail (printf "webhook.timeoutSeconds must be between 1 and 30 (the API server's limits), got %v" .Values.webhook.timeoutSeconds) -}}
{{- end -}}
{{- $budget := include "rainbow-system.seconds" .Values.webhook.guardBudget | float64 -}}
{{- if ge $budget (float64 $timeout) -}}
{{- fail (printf "webhook.guardBudget (%v) must be shorter than webhook.timeoutSeconds (%d s): the API server gives up on the webhook after timeoutSeconds, and the guard needs time to answer after asking the pods" .Values.webhook.guardBudget $timeout) -}}
{{- end -}}
{{- if ge (int .Values.tls.renewBeforeDays) (int .Values.tls.validityDays) -}}
{{- fail (printf "tls.renewBeforeDays (%v) must be less than tls.validityDays (%v), or the webhook would rotate its certificate on every check" .Values.tls.renewBeforeDays .Values.tls.validityDays) -}}
{{- end -}}
{{- if lt (int .Values.webhook.replicas) 0 -}}
{{- fail (printf "webhook.replicas must be 0 or more, got %v" .Values.webhook.replicas) -}}
{{- end -}}
{{- if lt (int .Values.controller.replicas) 0 -}}
{{- fail (printf "controller.replicas must be 0 or more, got %v" .Values.controller.replicas) -}}
{{- end -}}
{{- end -}}

{{/*
clientConfig of a webhook: the Service, or webhook.url when the webhook runs outside the cluster.
Call with (dict "ctx" $ "path" "/mutate/services" "caBundle" $caBundle).
*/}}
{{- define "rainbow-system.clientConfig" -}}
{{- if .ctx.Values.webhook.url -}}
url: {{ printf "%s%s" (trimSuffix "/" .ctx.Values.webhook.url) .path | quote }}
{{- else -}}
service:
  name: {{ include "rainbow-system.webhookName" .ctx }}
  namespace: {{ .ctx.Release.Namespace }}
  path: {{ .path }}
  port: 443
{{- end }}
{{- with .caBundle }}
caBundle: {{ . }}
{{- end }}
{{- end -}}

{{/*
Labels of one alert: its severity, then monitoring.prometheusRule.alertLabels. Call with
(dict "ctx" $ "alert" .Values.monitoring.prometheusRule.alerts.<name>).
*/}}
{{- define "rainbow-system.alertLabels" -}}
{{- toYaml (merge (dict "severity" .alert.severity) (.ctx.Values.monitoring.prometheusRule.alertLabels | default dict)) -}}
{{- end -}}

{{/* runbook_url of an alert when monitoring.prometheusRule.runbookUrl is set. Call with (dict "ctx" $ "alert" "RainbowX"). */}}
{{- define "rainbow-system.runbookUrl" -}}
{{- with .ctx.Values.monitoring.prometheusRule.runbookUrl -}}
runbook_url: {{ printf "%s#%s" (trimSuffix "#" .) (lower $.alert) | quote }}
{{- end -}}
{{- end -}}
