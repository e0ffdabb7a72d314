// Builders for the objects the policies read, shaped like the API server's JSON, and the loader
// of the recorded AdmissionReviews in test/fixtures/admission.
import { readFileSync } from 'node:fs';
import fastJsonPatch from 'fast-json-patch';
import type { V1Deployment, V1Pod, V1Service } from '@kubernetes/client-node';
import { parseReview, type AdmissionRequest, type AdmissionReview } from '../../webhook/src/admission/review.js';
import { patchOperations, type Decision } from '../../webhook/src/admission/responses.js';

export const NS = 'shop';
export const SERVING = '3c3fdc';
export const NEXT = 'b2c3d4';
export const SERVING_UID = '6f1c2a8e-3b7d-4e2f-a1c9-5d8e7f6a4b21';

export function loadReview(file: string): AdmissionReview {
  return JSON.parse(readFileSync(new URL(`../fixtures/admission/${file}`, import.meta.url), 'utf8')) as AdmissionReview;
}

export function loadRequest(file: string, edit?: (r: AdmissionRequest) => void): AdmissionRequest {
  const parsed = parseReview(loadReview(file));
  if (!parsed.ok) throw new Error(`fixture ${file}: ${parsed.error.message}`);
  edit?.(parsed.request);
  return parsed.request;
}

export interface DeploymentOptions {
  color: string;
  app?: string;
  replicas?: number;
  available?: boolean;
  generation?: number;
  observedGeneration?: number;
  created?: string;
  uid?: string;
  annotations?: Record<string, string>;
  deleting?: boolean;
}

export function deployment(o: DeploymentOptions): V1Deployment {
  const app = o.app ?? 'web';
  const replicas = o.replicas ?? 2;
  const ready = o.available === false ? 0 : replicas;
  const generation = o.generation ?? 1;
  const labels = { 'rainbow.dev/app': app, 'rainbow.dev/color': o.color };
  const d: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: `${app}-${o.color}`,
      namespace: NS,
      uid: o.uid ?? `uid-${app}-${o.color}`,
      generation,
      creationTimestamp: (o.created ?? '2025-11-24T09:12:03Z') as unknown as Date,
      labels: { ...labels },
      annotations: { 'deployment.kubernetes.io/revision': '1', ...(o.annotations ?? {}) },
    },
    spec: {
      replicas,
      selector: { matchLabels: { ...labels } },
      template: { metadata: { labels: { ...labels } }, spec: { containers: [{ name: 'app', image: `rainbow:${o.color}` }] } },
    },
    status: {
      observedGeneration: o.observedGeneration ?? generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: ready,
      availableReplicas: ready,
    },
  };
  if (o.deleting) d.metadata!.deletionTimestamp = '2025-11-26T12:00:00Z' as unknown as Date;
  return d;
}

export interface ServiceOptions {
  name?: string;
  app?: string;
  color?: string;
  pending?: string;
  annotations?: Record<string, string>;
}

export function service(o: ServiceOptions = {}): V1Service {
  const app = o.app ?? 'web';
  const annotations = { ...(o.annotations ?? {}) };
  if (o.pending) annotations['rainbow.dev/pending-color'] = o.pending;
  const selector: Record<string, string> = { 'rainbow.dev/app': app };
  if (o.color) selector['rainbow.dev/color'] = o.color;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: o.name ?? app, namespace: NS, labels: { 'rainbow.dev/app': app }, annotations },
    spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

export interface PodOptions {
  name: string;
  color?: string;
  app?: string;
  ip?: string | null;
  phase?: string;
  deleting?: boolean;
  annotations?: Record<string, string>;
  hash?: string;
  /** spec.nodeName (default rainbow-node); null leaves the pod unscheduled. */
  node?: string | null;
  /** The Ready condition (default true for a Running pod). */
  ready?: boolean;
}

export function pod(o: PodOptions): V1Pod {
  const labels: Record<string, string> = { 'rainbow.dev/app': o.app ?? 'web', 'rainbow.dev/color': o.color ?? SERVING };
  if (o.hash) labels['pod-template-hash'] = o.hash;
  const p: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: NS, labels, annotations: { ...(o.annotations ?? {}) } },
    spec: { containers: [{ name: 'app' }] },
    status: { phase: o.phase ?? 'Running' },
  };
  if (o.node !== null) p.spec!.nodeName = o.node ?? 'rainbow-node';
  const ready = o.ready ?? (o.phase ?? 'Running') === 'Running';
  p.status!.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False' }];
  if (o.ip !== null) p.status!.podIP = o.ip ?? '127.0.10.1';
  if (o.deleting) p.metadata!.deletionTimestamp = '2025-11-26T12:00:00Z' as unknown as Date;
  return p;
}

/** The object as the API server would store it after applying the decision's patch. */
export function applyDecision<T>(obj: T, decision: Decision): T {
  return fastJsonPatch.applyPatch(structuredClone(obj), patchOperations(decision), true, false).newDocument;
}
