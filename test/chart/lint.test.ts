// Both charts pass `helm lint --strict`, and every value in their values.yaml is documented
// (values-schema.test.ts checks the schema against the values, ct-lint.test.ts what chart-testing checks).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, parseDocument, type YAMLMap } from 'yaml';

import { chartDir, helm, type ChartName } from './render.js';

const charts: ChartName[] = ['rainbow-app', 'rainbow-system'];

describe.each(charts)('%s', (chart) => {
  it('passes helm lint --strict', async () => {
    const r = await helm(['lint', '--strict', chartDir(chart)]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringContaining('1 chart(s) linted, 0 chart(s) failed') });
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  if (chart === 'rainbow-app') {
    it('passes helm lint --strict with a color given', async () => {
      const r = await helm(['lint', '--strict', chartDir(chart), '--set', 'color=3c3fdc']);
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
      expect(r.code).toBe(0);
    });
  }

  it('documents every value in values.yaml with a helm-docs comment (# -- ...)', () => {
    const doc = parseDocument(readFileSync(path.join(chartDir(chart), 'values.yaml'), 'utf8'));
    const undocumented: string[] = [];
    // A key is documented by a `# --` comment just above it (for the first key of a section, the
    // comment may belong to the section's map), as helm-docs reads them: the last paragraph of
    // the comment starts with "--". A key without one must be a section whose keys are all
    // documented.
    const walk = (map: YAMLMap, prefix: string) => {
      map.items.forEach((pair, i) => {
        const key = `${prefix}${String((pair.key as { value?: unknown }).value)}`;
        const comment = (pair.key as { commentBefore?: string | null }).commentBefore ?? (i === 0 ? map.commentBefore : undefined);
        const last = comment?.split(/\n\s*\n/).pop()?.trim() ?? '';
        if (/^-- \S/.test(last)) return;
        if (isMap(pair.value) && pair.value.items.length > 0) walk(pair.value, `${key}.`);
        else undocumented.push(key);
      });
    };
    expect(isMap(doc.contents)).toBe(true);
    walk(doc.contents as YAMLMap, '');
    expect(undocumented).toEqual([]);
  });

  it('has a values.schema.json that covers every top-level value', () => {
    const schema = JSON.parse(readFileSync(path.join(chartDir(chart), 'values.schema.json'), 'utf8')) as { properties: Record<string, unknown>; additionalProperties: boolean };
    const values = parseDocument(readFileSync(path.join(chartDir(chart), 'values.yaml'), 'utf8')).toJS() as Record<string, unknown>;
    expect(schema.additionalProperties).toBe(false);
    for (const key of Object.keys(values)) expect(Object.keys(schema.properties)).toContain(key);
  });
});
