import { censorSecrets, createLogger, LOG_LEVEL_ENV, REDACTED, reviewFields, scrubSecrets } from '../../../webhook/src/runtime/log.js';

/** A pino destination that keeps the parsed lines. */
function collector(): { lines: Record<string, unknown>[]; write(msg: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (msg: string) => lines.push(JSON.parse(msg) as Record<string, unknown>) };
}

describe('log', () => {
  it('writes JSON at the level from RAINBOW_LOG_LEVEL', () => {
    const out = collector();
    const log = createLogger({ name: 'webhook', destination: out, env: { [LOG_LEVEL_ENV]: 'warn' } });
    log.info('hidden');
    log.warn({ app: 'web' }, 'shown');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ level: 'warn', name: 'webhook', app: 'web', msg: 'shown' });
    expect(typeof out.lines[0]!.time).toBe('string');
  });

  it('defaults to info, and survives a bad level with a warning', () => {
    const out = collector();
    const log = createLogger({ destination: out, env: { [LOG_LEVEL_ENV]: 'verbose' } });
    log.debug('hidden');
    log.info('shown');
    expect(out.lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(out.lines[0]!.msg).toMatch(/RAINBOW_LOG_LEVEL="verbose" is not a log level/);
    expect(createLogger({ destination: collector(), env: {} }).level).toBe('info');
    expect(createLogger({ destination: collector(), env: { [LOG_LEVEL_ENV]: 'DEBUG' } }).level).toBe('debug');
  });

  it('redacts keys, tokens, certificates and authorization headers', () => {
    const out = collector();
    const log = createLogger({ destination: out, env: {} });
    log.info(
      {
        key: 'PRIVATE-1',
        tls: { key: 'PRIVATE-2', cert: 'CERT-1' },
        pems: { caCert: 'CERT-2', key: 'PRIVATE-3' },
        token: 'TOKEN-1',
        sa: { token: 'TOKEN-2' },
        authorization: 'Bearer TOKEN-3',
        req: { method: 'POST', headers: { authorization: 'Bearer TOKEN-4', 'content-type': 'application/json' } },
        secret: { data: { 'tls.key': 'PRIVATE-4', 'tls.crt': 'visible-name-only' } },
        pod: 'web-abc',
      },
      'review',
    );
    const text = JSON.stringify(out.lines[0]);
    for (const leaked of ['PRIVATE-', 'TOKEN-', 'CERT-']) expect(text).not.toContain(leaked);
    expect(out.lines[0]).toMatchObject({
      key: REDACTED,
      tls: { key: REDACTED, cert: REDACTED },
      req: { method: 'POST', headers: { authorization: REDACTED, 'content-type': 'application/json' } },
      pod: 'web-abc',
    });
  });

  it('gives the fields that identify a review: uid, kind, namespace and name', () => {
    const out = collector();
    const log = createLogger({ destination: out, env: {} });
    const fields = reviewFields({
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { kind: 'Deployment' },
      namespace: 'shop',
      name: 'web-3c3fdc',
      operation: 'DELETE',
    });
    log.info(fields, 'denied');
    expect(out.lines[0]).toMatchObject({
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web-3c3fdc',
      operation: 'DELETE',
      msg: 'denied',
    });
    log.info(reviewFields({ uid: 'u', kind: 'Service' }), 'x');
    expect(out.lines[1]).toMatchObject({ uid: 'u', kind: 'Service' });
    expect(out.lines[1]).not.toHaveProperty('namespace');
  });
});

describe('scrubSecrets (text that redaction by path cannot reach)', () => {
  const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n-----END PRIVATE KEY-----\n';
  const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl';

  it('removes PEM blocks, cut-short PEM, bearer tokens and JWTs from messages and error text, keeping valid JSON', () => {
    const out = collector();
    const log = createLogger({ destination: out, env: {} });
    log.warn(`apiVersion is ${JSON.stringify(PEM.slice(0, 40) + '…')}; expected admission.k8s.io/v1`);
    log.error({ err: new Error(`cannot decide: ${JSON.stringify({ a: { pem: PEM, auth: 'Bearer sha256~abcdefghijklmnop' } })}`) }, `token ${JWT} and "${PEM}" end`);
    log.info({ note: JSON.stringify({ nested: JSON.stringify({ key: PEM }) }) }, 'nested escapes');
    const text = JSON.stringify(out.lines);
    expect(text).not.toContain('-----BEGIN');
    expect(text).not.toContain('MIIEvQ');
    expect(text).not.toContain('abcdefghijklmnop');
    expect(text).not.toContain(JWT.split('.')[1]);
    expect(out.lines).toHaveLength(3);
    expect(out.lines[0]!.msg).toBe(`apiVersion is "${REDACTED}"; expected admission.k8s.io/v1`);
    expect(out.lines[1]!.msg).toBe(`token ${REDACTED} and "${REDACTED}\n" end`);
  });

  it('leaves ordinary lines alone', () => {
    expect(scrubSecrets('{"msg":"basic settings: Bearer of bad news, eyJ"}')).toBe('{"msg":"basic settings: Bearer of bad news, eyJ"}');
    expect(scrubSecrets('{"msg":"Authorization: Bearer abcdefgh12345678"}')).toBe(`{"msg":"Authorization: Bearer ${REDACTED}"}`);
  });
});

describe('censorSecrets (redaction by path, compiled once)', () => {
  it('censors the paths at their depth only, and copies nothing when nothing is censored', () => {
    const plain = { uid: 'u', kind: 'Service', nested: { name: 'web', list: [1, 2] } };
    expect(censorSecrets(plain)).toBe(plain);
    const withKubeconfig = { kc: { user: { token: 'T', name: 'admin' } }, user: { 'client-key-data': 'K' }, spec: { stringData: { a: 'b' } }, deep: { a: { key: 'stays: three levels down' } } };
    expect(censorSecrets(withKubeconfig)).toEqual({
      kc: { user: { token: REDACTED, name: 'admin' } },
      user: { 'client-key-data': REDACTED },
      spec: { stringData: REDACTED },
      deep: { a: { key: 'stays: three levels down' } },
    });
    expect(withKubeconfig.kc.user.token).toBe('T'); // the caller's object is not modified
    expect(censorSecrets({ items: [{ token: 'two levels down, in an array' }] })).toEqual({ items: [{ token: 'two levels down, in an array' }] });
  });

  it("censors a child logger's bindings too", () => {
    const out = collector();
    createLogger({ destination: out, env: {} }).child({ token: 'TOKEN-9', uid: 'u', headers: { authorization: 'Basic QQ' } }).info('x');
    expect(out.lines[0]).toMatchObject({ token: REDACTED, uid: 'u', headers: { authorization: REDACTED } });
  });
});
