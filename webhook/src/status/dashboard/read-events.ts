// The rainbow controller's Events where the dashboard looks: one list per read, filtered by the
// API server to the controller's component (`source` matches source.component, else
// reportingComponent), in the namespace shown or in all of them.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiClient } from '../../kube/client.js';
import { RAINBOW_EVENT_COMPONENT } from './events.js';
import type { ListEvents } from './feed.js';

export function kubeEventLister(kc: KubeConfig, namespace: string | undefined): ListEvents {
  const core = apiClient(kc, CoreV1Api);
  const fieldSelector = `source=${RAINBOW_EVENT_COMPONENT}`;
  return async () => (namespace ? await core.listNamespacedEvent({ namespace, fieldSelector }) : await core.listEventForAllNamespaces({ fieldSelector })).items;
}
