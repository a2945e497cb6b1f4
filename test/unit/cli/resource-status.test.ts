import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition, Resource } from '../../../src/cli/admin-types.js';
import { deriveStatus, isRejectedStatus } from '../../../src/cli/resource-status.js';

const c = (type: string, status: string, reason = type): Condition => ({ type, status, reason });
const route = (...parents: Condition[][]): Resource => ({
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'acc' },
  status: { parents: parents.map((conditions) => ({ parentRef: { name: 'gw' }, conditions })) },
});
const own = (...conditions: Condition[]): Resource => ({ kind: 'Gateway', metadata: { name: 'g' }, status: { conditions } });

describe('deriveStatus', () => {
  it('says "-" for resources without conditions (Service, Secret)', () => {
    assert.equal(deriveStatus({ kind: 'Service', metadata: { name: 's' } }), '-');
    assert.equal(deriveStatus(own()), '-');
  });

  it('says Programmed when Programmed is True', () => {
    assert.equal(deriveStatus(own(c('Accepted', 'True'), c('Programmed', 'True'))), 'Programmed');
  });

  it('says Accepted when accepted and nothing is False', () => {
    assert.equal(deriveStatus(route([c('Accepted', 'True'), c('ResolvedRefs', 'True')])), 'Accepted');
  });

  it('says Rejected with the reason of Accepted=False', () => {
    assert.equal(deriveStatus(route([c('Accepted', 'False', 'NotAllowedByListeners')])), 'Rejected: NotAllowedByListeners');
  });

  it('treats Ready=False (a parse error in standalone mode) as rejected', () => {
    assert.equal(deriveStatus(own(c('Ready', 'False', 'ParseError'))), 'Rejected: ParseError');
  });

  it('names the failing condition of an accepted resource', () => {
    assert.equal(
      deriveStatus(route([c('Accepted', 'True'), c('ResolvedRefs', 'False', 'BackendNotFound')])),
      'Accepted (ResolvedRefs: BackendNotFound)',
    );
    assert.equal(deriveStatus(own(c('Accepted', 'True'), c('Programmed', 'False', 'AddressNotUsable'))), 'Accepted (Programmed: AddressNotUsable)');
  });

  it('uses route parents, and says how many parents rejected', () => {
    const status = deriveStatus(route([c('Accepted', 'True')], [c('Accepted', 'False', 'NoMatchingParent')]));
    assert.equal(status, 'Rejected: NoMatchingParent (1 of 2 parents)');
    assert.ok(isRejectedStatus(status));
  });

  it('says Pending while nothing is decided', () => {
    assert.equal(deriveStatus(own(c('Accepted', 'Unknown', 'Pending'))), 'Pending');
  });

  it('falls back to the message when a False condition has no reason', () => {
    assert.equal(deriveStatus(own({ type: 'Accepted', status: 'False', message: 'bad port' })), 'Rejected: bad port');
  });
});
