import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { FIELD_MANAGER, withoutManager } from '../../../webhook/src/controller/field-ownership.js';

const helm: V1ManagedFieldsEntry = { manager: 'helm', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:ports': {} } } };
const ours: V1ManagedFieldsEntry = { manager: FIELD_MANAGER, operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:selector': { 'f:rainbow.dev/color': {} } } } };

test('drops only the controller entries', () => {
  expect(withoutManager([helm, ours])).toEqual([helm]);
});

test('nothing to do when the controller owns nothing', () => {
  expect(withoutManager([helm])).toBeUndefined();
  expect(withoutManager(undefined)).toBeUndefined();
});

test('an emptied list is sent as [{}] so the API server clears it instead of ignoring it', () => {
  expect(withoutManager([ours])).toEqual([{}]);
});
