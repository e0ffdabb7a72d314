// injectCaBundle against in-memory webhook configurations: only entries that differ are patched,
// with a resourceVersion test; conflicts are retried; errors name the object and the RBAC.
import { applyPatch, type Operation } from 'fast-json-patch';

import {
  caBundlePatch,
  injectCaBundle,
  parseInjectTargets,
  type JsonPatchOp,
  type WebhookConfigIO,
  type WebhookConfigKind,
  type WebhookConfigView,
} from '../../../../webhook/src/webhook/tls/ca-injector.js';

class ApiError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

interface Stored {
  metadata: { uid: string; resourceVersion: string };
  webhooks: Array<{ name: string; clientConfig: { caBundle?: string; service?: object } }>;
}

class FakeConfigs implements WebhookConfigIO {
  readonly objects = new Map<string, Stored>();
  patches: Array<{ key: string; ops: JsonPatchOp[] }> = [];
  beforePatch?: (key: string) => void;
  private rv = 10;

  add(kind: WebhookConfigKind, name: string, entries: Array<[string, string?]>) {
    this.objects.set(`${kind}/${name}`, {
      metadata: { uid: `uid-${name}`, resourceVersion: String(++this.rv) },
      webhooks: entries.map(([n, ca]) => ({ name: n, clientConfig: { service: { name: 'svc' }, ...(ca ? { caBundle: ca } : {}) } })),
    });
  }

  bump(key: string) {
    this.objects.get(key)!.metadata.resourceVersion = String(++this.rv);
  }

  async read(kind: WebhookConfigKind, name: string): Promise<WebhookConfigView> {
    const o = this.objects.get(`${kind}/${name}`);
    if (!o) throw new ApiError(404, `${kind}webhookconfigurations "${name}" not found`);
    return { uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, webhooks: o.webhooks.map((w) => ({ name: w.name, caBundle: w.clientConfig.caBundle })) };
  }

  async patch(kind: WebhookConfigKind, name: string, ops: JsonPatchOp[]) {
    const key = `${kind}/${name}`;
    this.beforePatch?.(key);
    const o = this.objects.get(key)!;
    this.patches.push({ key, ops });
    try {
      const next = applyPatch(structuredClone(o), ops as Operation[], true, false).newDocument;
      this.objects.set(key, next);
      this.bump(key);
    } catch {
      throw new ApiError(409, 'the server rejected our request: test failed');
    }
  }
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const B64 = Buffer.from(PEM).toString('base64');
const targets = { mutating: ['rainbow'], validating: ['rainbow'] };
const bundles = (f: FakeConfigs, key: string) => f.objects.get(key)!.webhooks.map((w) => w.clientConfig.caBundle);

describe('parseInjectTargets', () => {
  it('takes repeated and comma-separated kind/name items, without duplicates', () => {
    expect(parseInjectTargets(['mutating/rainbow,validating/rainbow', 'validating/other', 'validating/rainbow'])).toEqual({ mutating: ['rainbow'], validating: ['rainbow', 'other'] });
    expect(parseInjectTargets([])).toEqual({ mutating: [], validating: [] });
  });
  it('refuses anything else, naming the item', () => {
    expect(() => parseInjectTargets(['apiservice/x'])).toThrow('--inject-ca: "apiservice/x" is not mutating/NAME or validating/NAME');
    expect(() => parseInjectTargets(['rainbow'])).toThrow(/"rainbow" is not/);
  });
});

describe('caBundlePatch (pure)', () => {
  it('sets only the entries that differ, behind a resourceVersion and name test', () => {
    const ops = caBundlePatch({ resourceVersion: '7', webhooks: [{ name: 'a', caBundle: B64 }, { name: 'b' }, { name: 'c', caBundle: 'old' }] }, B64);
    expect(ops).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      { op: 'test', path: '/webhooks/1/name', value: 'b' },
      { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: B64 },
      { op: 'test', path: '/webhooks/2/name', value: 'c' },
      { op: 'add', path: '/webhooks/2/clientConfig/caBundle', value: B64 },
    ]);
    expect(caBundlePatch({ resourceVersion: '7', webhooks: [{ name: 'a', caBundle: B64 }] }, B64)).toEqual([]);
  });
});

describe('injectCaBundle', () => {
  it('puts base64(CA) into every entry of both configurations, then does nothing the second time', async () => {
    const f = new FakeConfigs();
    f.add('mutating', 'rainbow', [['services.rainbow.dev']]);
    f.add('validating', 'rainbow', [['workloads.rainbow.dev'], ['scale.rainbow.dev', 'c3RhbGU=']]);
    const r = await injectCaBundle(f, targets, PEM);
    expect(r.changed).toEqual(['MutatingWebhookConfiguration/rainbow: services.rainbow.dev', 'ValidatingWebhookConfiguration/rainbow: workloads.rainbow.dev, scale.rainbow.dev']);
    expect(bundles(f, 'mutating/rainbow')).toEqual([B64]);
    expect(bundles(f, 'validating/rainbow')).toEqual([B64, B64]);
    expect(f.objects.get('validating/rainbow')!.webhooks[0]!.clientConfig.service).toEqual({ name: 'svc' });
    f.patches = [];
    expect((await injectCaBundle(f, targets, PEM)).changed).toEqual([]);
    expect(f.patches).toEqual([]);
  });

  it('retries when the configuration changed between read and patch (409)', async () => {
    const f = new FakeConfigs();
    f.add('mutating', 'rainbow', [['services.rainbow.dev']]);
    let raced = false;
    f.beforePatch = (key) => {
      if (!raced) {
        raced = true;
        f.bump(key); // e.g. helm upgrade applied it meanwhile
      }
    };
    const r = await injectCaBundle(f, { mutating: ['rainbow'], validating: [] }, PEM);
    expect(r.changed).toHaveLength(1);
    expect(f.patches).toHaveLength(2);
    expect(bundles(f, 'mutating/rainbow')).toEqual([B64]);
  });

  it('gives up after repeated conflicts, and explains a missing configuration or RBAC', async () => {
    const f = new FakeConfigs();
    f.add('validating', 'rainbow', [['workloads.rainbow.dev']]);
    f.beforePatch = (key) => f.bump(key);
    await expect(injectCaBundle(f, { mutating: [], validating: ['rainbow'] }, PEM, { attempts: 3 })).rejects.toThrow(
      'cannot patch the caBundle of ValidatingWebhookConfiguration rainbow: conflict: the server rejected our request: test failed; it kept changing (3 attempts)',
    );
    await expect(injectCaBundle(new FakeConfigs(), { mutating: ['gone'], validating: [] }, PEM)).rejects.toThrow(
      'cannot read MutatingWebhookConfiguration gone to inject the caBundle: not found: mutatingwebhookconfigurations "gone" not found; is the chart installed? (--inject-ca names it)',
    );
    const denied = new FakeConfigs();
    denied.add('mutating', 'rainbow', [['services.rainbow.dev']]);
    denied.patch = async () => {
      throw new ApiError(403, 'forbidden!');
    };
    await expect(injectCaBundle(denied, { mutating: ['rainbow'], validating: [] }, PEM)).rejects.toThrow(
      "cannot patch the caBundle of MutatingWebhookConfiguration rainbow: forbidden: forbidden!; the webhook's ClusterRole needs patch on mutatingwebhookconfigurations (resourceNames [rainbow])",
    );
  });
});
