// values.schema.json and values.yaml describe the same values, at every depth: every key of
// values.yaml has a property in the schema with a description, and every property of the schema
// is a key of values.yaml — or, where values.yaml cannot show it (the fields of a list's items, or
// of a map that is empty by default), is named in the `# --` comment of the key it belongs to.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';

import { chartDir, type ChartName } from './render.js';

interface Schema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean | Schema;
}

type Values = Record<string, unknown>;
const isObject = (v: unknown): v is Values => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The comment above each key of values.yaml, by dotted path (list items: path[]). */
function comments(chart: ChartName): Map<string, string> {
  const doc = parseDocument(readFileSync(path.join(chartDir(chart), 'values.yaml'), 'utf8'));
  const out = new Map<string, string>();
  const walk = (map: YAMLMap, prefix: string) => {
    map.items.forEach((pair, i) => {
      const key = `${prefix}${String((pair.key as { value?: unknown }).value)}`;
      const comment = (pair.key as { commentBefore?: string | null }).commentBefore ?? (i === 0 ? map.commentBefore : undefined);
      out.set(key, comment ?? '');
      if (isMap(pair.value)) walk(pair.value, `${key}.`);
      if (isSeq(pair.value)) for (const item of pair.value.items) if (isMap(item)) walk(item, `${key}[].`);
    });
  };
  walk(doc.contents as YAMLMap, '');
  return out;
}

interface Problems {
  /** Keys of values.yaml the schema has no property for. */
  notInSchema: string[];
  /** Schema properties without a description. */
  undescribed: string[];
  /** Schema properties that values.yaml neither has nor names. */
  notInValues: string[];
}

/**
 * Compares a schema with the values and the comments above their keys (by dotted path; list
 * items as path[]). A schema property that values.yaml lacks must be named in the comment of the
 * nearest key it has above it (a list's item fields: in the list's comment).
 */
export function check(schema: Schema, values: Values, docs: Map<string, string>): Problems {
  const problems: Problems = { notInSchema: [], undescribed: [], notInValues: [] };

  const walkValues = (v: Values, s: Schema, prefix: string) => {
    for (const [key, value] of Object.entries(v)) {
      const at = `${prefix}${key}`;
      const prop = s.properties?.[key];
      if (!prop) {
        problems.notInSchema.push(at);
        continue;
      }
      if (isObject(value)) walkValues(value, prop, `${at}.`);
      if (Array.isArray(value)) for (const item of value) if (isObject(item)) walkValues(item, prop.items ?? {}, `${at}[].`);
    }
  };

  const walkSchema = (s: Schema, v: unknown, prefix: string, owner: string | undefined) => {
    for (const [key, prop] of Object.entries(s.properties ?? {})) {
      const at = `${prefix}${key}`;
      if (!prop.description?.trim()) problems.undescribed.push(at);
      const present = isObject(v) && key in v;
      // `global` is Helm's own: a chart gets it whether values.yaml has it or not.
      if (!present && at !== 'global') {
        const named = owner !== undefined && new RegExp(`\\b${key}\\b`).test(docs.get(owner) ?? '');
        if (!named) problems.notInValues.push(at);
      }
      const value = isObject(v) ? v[key] : undefined;
      const childOwner = present ? at : owner;
      walkSchema(prop, value, `${at}.`, childOwner);
      if (prop.items?.properties) {
        // A list's items: each field is in some default item, or named in the list's comment.
        const union = Object.assign({}, ...(Array.isArray(value) ? value.filter(isObject) : [])) as Values;
        walkSchema(prop.items, union, `${at}[].`, childOwner);
      }
    }
  };

  walkValues(values, schema, '');
  walkSchema(schema, values, '', undefined);
  return problems;
}

function checkChart(chart: ChartName): Problems {
  const dir = chartDir(chart);
  const schema = JSON.parse(readFileSync(path.join(dir, 'values.schema.json'), 'utf8')) as Schema;
  const values = parseDocument(readFileSync(path.join(dir, 'values.yaml'), 'utf8')).toJS() as Values;
  return check(schema, values, comments(chart));
}

describe.each<ChartName>(['rainbow-app', 'rainbow-system'])('%s values.schema.json', (chart) => {
  const problems = checkChart(chart);

  it('has a property for every key of values.yaml, at every depth', () => {
    expect(problems.notInSchema).toEqual([]);
  });

  it('describes every property, at every depth', () => {
    expect(problems.undescribed).toEqual([]);
  });

  it('has no property that values.yaml neither sets nor names in its comments', () => {
    expect(problems.notInValues).toEqual([]);
  });

  it('rejects keys it does not know at the top level', () => {
    const schema = JSON.parse(readFileSync(path.join(chartDir(chart), 'values.schema.json'), 'utf8')) as Schema;
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('the check itself', () => {
  const schema: Schema = {
    properties: {
      a: { description: 'a', properties: { b: { description: 'b' }, c: {} } },
      list: { description: 'list', items: { properties: { name: { description: 'name' }, port: { description: 'port' }, extra: { description: 'extra' } } } },
      empty: { description: 'empty', properties: { inside: { description: 'inside' } } },
      gone: { description: 'gone' },
    },
  };
  const values: Values = { a: { b: 1, c: 2, d: 3 }, list: [{ name: 'x' }], empty: {} };

  it('finds keys the schema lacks, properties without a description, and properties values.yaml lacks', () => {
    const docs = new Map([['list', ' -- items have name and port'], ['empty', ' -- may hold inside']]);
    expect(check(schema, values, docs)).toEqual({ notInSchema: ['a.d'], undescribed: ['a.c'], notInValues: ['list[].extra', 'gone'] });
  });

  it('takes a property values.yaml lacks only when the comment of its owner names it', () => {
    const docs = new Map([['list', ' -- items have name'], ['empty', ' -- a map']]);
    expect(check(schema, values, docs).notInValues).toEqual(['list[].port', 'list[].extra', 'empty.inside', 'gone']);
  });
});
