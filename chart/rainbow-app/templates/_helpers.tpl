{{/*
rainbow-app helpers. Names are prefixed with the chart name so that they never clash with a
parent chart's helpers.
*/}}

{{/*
The app's name: the release name. It names the Service and is the value of rainbow.dev/app, so
it must be a DNS-1035 label (a Service name starts with a letter).
*/}}
{{- define "rainbow-app.name" -}}
{{- $name := .Release.Name -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$" $name) -}}
{{- fail (printf "release name %q cannot name an app: it becomes the Service name and the rainbow.dev/app label, so it must be lowercase letters, digits and '-', start with a letter, end with a letter or digit, and have at most 63 characters" $name) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/*
The color, checked. `--set color=123456` arrives as a number and a values file may hold one
(YAML reads it as a float), so numbers are printed as integers. `required` fails outside
`helm lint`; in lint mode it gives "" and the placeholder keeps rendered names valid so that lint
checks the rest of the chart.
*/}}
{{- define "rainbow-app.color" -}}
{{- $raw := .Values.color -}}
{{- $color := "" -}}
{{- if or (kindIs "float64" $raw) (kindIs "int64" $raw) (kindIs "int" $raw) -}}
{{- $color = $raw | int64 | toString -}}
{{- else if not (kindIs "invalid" $raw) -}}
{{- $color = toString $raw -}}
{{- end -}}
{{- $color = required (printf "color is required: helm upgrade --install %s chart/rainbow-app --set color=$(git rev-parse --short=6 HEAD)" .Release.Name) $color | default "lint-placeholder" -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$" $color) -}}
{{- fail (printf "color %q is not valid: a color is a DNS-label-safe string of at most 40 characters (lowercase letters, digits and '-', starting and ending with a letter or digit), e.g. a git sha: --set color=$(git rev-parse --short=6 HEAD)" $color) -}}
{{- end -}}
{{- $color -}}
{{- end -}}

{{/* Deployment name of this color: <release>-<color>. */}}
{{- define "rainbow-app.deploymentName" -}}
{{- printf "%s-%s" (include "rainbow-app.name" .) (include "rainbow-app.color" .) -}}
{{- end -}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "rainbow-app.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of the app as a whole (the Service, the ServiceAccount): rainbow.dev/app plus the
standard app.kubernetes.io ones. No app.kubernetes.io/version: the color is the version and it
has a label of its own.
*/}}
{{- define "rainbow-app.labels" -}}
rainbow.dev/app: {{ include "rainbow-app.name" . }}
app.kubernetes.io/name: {{ include "rainbow-app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rainbow
helm.sh/chart: {{ include "rainbow-app.chart" . }}
{{- end -}}

{{/*
Selector of one color: exactly rainbow.dev/app and rainbow.dev/color. A Deployment's selector is
immutable and colors must never share one, so nothing else may go here.
*/}}
{{- define "rainbow-app.selectorLabels" -}}
rainbow.dev/app: {{ include "rainbow-app.name" . }}
rainbow.dev/color: {{ include "rainbow-app.color" . | quote }}
{{- end -}}

{{/* Labels of the color's Deployment. */}}
{{- define "rainbow-app.colorLabels" -}}
{{ include "rainbow-app.labels" . }}
rainbow.dev/color: {{ include "rainbow-app.color" . | quote }}
app.kubernetes.io/component: app
{{- end -}}

{{/*
Labels of the color's pods: podLabels first, then the fixed ones, so that podLabels cannot
change the selector labels. Nothing that changes with the chart version, so that upgrading the
chart alone does not roll a color's pods.
*/}}
{{- define "rainbow-app.podLabels" -}}
{{- $fixed := fromYaml (include "rainbow-app.podFixedLabels" .) -}}
{{- toYaml (merge (dict) $fixed (.Values.podLabels | default (dict))) -}}
{{- end -}}

{{- define "rainbow-app.podFixedLabels" -}}
{{ include "rainbow-app.selectorLabels" . }}
app.kubernetes.io/name: {{ include "rainbow-app.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: app
app.kubernetes.io/part-of: rainbow
{{- end -}}

{{/* The ServiceAccount of the pods. */}}
{{- define "rainbow-app.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "rainbow-app.name" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/*
The app's image: <repository>@<digest> when image.digest is set, else <repository>:<tag>, the tag
defaulting to the color.
*/}}
{{- define "rainbow-app.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- $tag := .Values.image.tag | default (include "rainbow-app.color" .) | toString -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The reporter's image: the app's image (the rainbow image has every role) unless
reporter.image.repository names another; then its tag defaults to the chart's appVersion. A
reporter.image.digest or .tag of its own wins over the app's digest.
*/}}
{{- define "rainbow-app.reporterImage" -}}
{{- $r := .Values.reporter.image -}}
{{- if $r.repository -}}
{{- if $r.digest -}}
{{- printf "%s@%s" $r.repository $r.digest -}}
{{- else -}}
{{- printf "%s:%s" $r.repository ($r.tag | default .Chart.AppVersion | toString) -}}
{{- end -}}
{{- else if $r.digest -}}
{{- printf "%s@%s" .Values.image.repository $r.digest -}}
{{- else if and (not $r.tag) .Values.image.digest -}}
{{- include "rainbow-app.image" . -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository ($r.tag | default (.Values.image.tag | default (include "rainbow-app.color" .)) | toString) -}}
{{- end -}}
{{- end -}}

{{/* The /tmp volume of the pod: an emptyDir, at most tmp.sizeLimit (none when it is null or empty). */}}
{{- define "rainbow-app.tmpVolume" -}}
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
(dict "probes" (dict "readinessProbe" $probe ...) "ports" (list "http" "tcp") "where" "ports").
*/}}
{{- define "rainbow-app.checkProbePorts" -}}
{{- $c := . -}}
{{- range $key, $probe := .probes -}}
{{- range $handler := list "httpGet" "tcpSocket" -}}
{{- $h := index ($probe | default dict) $handler -}}
{{- if and $h (kindIs "map" $h) (kindIs "string" $h.port) (not (has $h.port $c.ports)) -}}
{{- fail (printf "%s.%s.port is %q, but %s has no port of that name (%s: %s): name one of those, or give a number" $key $handler $h.port $c.container $c.where (join ", " $c.ports)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The TCP ports the reporter counts, comma-separated. */}}
{{- define "rainbow-app.countedPorts" -}}
{{- $ports := list -}}
{{- range .Values.ports -}}
{{- if eq (.protocol | default "TCP") "TCP" -}}
{{- $ports = append $ports (int .containerPort | toString) -}}
{{- end -}}
{{- end -}}
{{- join "," $ports -}}
{{- end -}}

{{/*
Checks of values that values.schema.json cannot express (and a second line of defence for
`helm install --skip-schema-validation`). Renders nothing.
*/}}
{{- define "rainbow-app.validate" -}}
{{- $_ := include "rainbow-app.color" . -}}
{{- if lt (int .Values.replicas) 0 -}}
{{- fail (printf "replicas must be 0 or more, got %v" .Values.replicas) -}}
{{- end -}}
{{- if not .Values.ports -}}
{{- fail "ports must list at least one port: the Service needs one, and the reporter counts the connections on them" -}}
{{- end -}}
{{- $names := dict -}}
{{- $numbers := dict -}}
{{- range .Values.ports -}}
{{- if hasKey $names .name -}}
{{- fail (printf "ports: the name %q is used twice" .name) -}}
{{- end -}}
{{- $_ := set $names .name true -}}
{{- $key := printf "%v/%s" (int .containerPort) (.protocol | default "TCP") -}}
{{- if hasKey $numbers $key -}}
{{- fail (printf "ports: containerPort %s is listed twice" $key) -}}
{{- end -}}
{{- $_ := set $numbers $key true -}}
{{- if and .nodePort (eq $.Values.service.type "ClusterIP") -}}
{{- fail (printf "ports: %s has a nodePort but service.type is ClusterIP: set service.type=NodePort (or LoadBalancer)" .name) -}}
{{- end -}}
{{- if and (eq $.Values.connections.source "sidecar") (eq (int .containerPort) (int $.Values.connections.port)) -}}
{{- fail (printf "ports: %s uses port %v, which is connections.port (where the reporter sidecar serves the connection count); pick another connections.port" .name (int .containerPort)) -}}
{{- end -}}
{{- end -}}
{{- $portNames := list -}}
{{- range .Values.ports }}{{ $portNames = append $portNames (toString .name) }}{{ end -}}
{{- include "rainbow-app.checkProbePorts" (dict "probes" (dict "readinessProbe" .Values.readinessProbe "livenessProbe" .Values.livenessProbe "startupProbe" .Values.startupProbe) "ports" $portNames "container" "the app container" "where" "ports") -}}
{{- with .Values.podDisruptionBudget -}}
{{- if and .enabled (kindIs "invalid" .minAvailable) (kindIs "invalid" .maxUnavailable) -}}
{{- fail "podDisruptionBudget.enabled: set podDisruptionBudget.maxUnavailable or podDisruptionBudget.minAvailable" -}}
{{- end -}}
{{- end -}}
{{- if eq .Values.connections.source "sidecar" -}}
{{- include "rainbow-app.checkProbePorts" (dict "probes" (dict "reporter.readinessProbe" .Values.reporter.readinessProbe) "ports" (list "connections") "container" "the reporter sidecar" "where" "its port") -}}
{{- if not (include "rainbow-app.countedPorts" .) -}}
{{- fail "connections.source=sidecar needs at least one TCP port in ports: the reporter counts TCP connections" -}}
{{- end -}}
{{- if ne .Values.connections.path "/connections" -}}
{{- fail (printf "connections.path is %q but the reporter sidecar serves /connections only: keep /connections, or set connections.source=app if your app serves the count itself" .Values.connections.path) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A duration for an annotation: a bare number means seconds and is printed as "<n>s". */}}
{{- define "rainbow-app.duration" -}}
{{- if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) -}}
{{- printf "%ds" (int64 .) -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}
