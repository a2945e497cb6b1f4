import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError, cliError, Errors, toCliError, toErrorDocument } from '../../../src/cli/errors.js';
import { KINDS, kindNames, resolveKind } from '../../../src/cli/kinds.js';

describe('error catalogue', () => {
  it('has unique EDG_ERR_* codes with the exit codes of CONTRACT.md', () => {
    const codes = Object.values(Errors).map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length);
    for (const e of Object.values(Errors)) {
      assert.match(e.code, /^EDG_ERR_[A-Z_]+$/);
      assert.ok([1, 2, 3].includes(e.exitCode), e.code);
    }
    assert.equal(Errors.usage.exitCode, 2);
    assert.equal(Errors.unknownKind.exitCode, 2);
    assert.equal(Errors.unreachable.exitCode, 3);
    assert.equal(Errors.notFound.exitCode, 1);
    assert.equal(Errors.invalid.exitCode, 1);
  });

  it('turns errors raised while parsing argv into usage errors (exit 2)', () => {
    const e = toCliError(new Error('Parsing --admin-port \n\tExpected an integer but received: x\nSee more help with --help'), true);
    assert.equal(e.exitCode, 2);
    assert.equal(e.code, 'EDG_ERR_USAGE');
    assert.doesNotMatch(e.message, /See more help/);
    assert.equal(e.hint, 'See more help with --help');
  });

  it('treats other unexpected errors as internal failures (exit 1)', () => {
    const e = toCliError(new TypeError('boom'), false);
    assert.equal(e.exitCode, 1);
    assert.equal(e.code, 'EDG_ERR_INTERNAL');
  });

  it('keeps a CliError as it is', () => {
    const original = cliError('notFound', 'HTTPRoute a/b not found');
    assert.equal(toCliError(original, true), original);
  });

  it('builds the {"error":{code,message,details}} document, with partial results beside it', () => {
    const e = new CliError(Errors.invalid, '1 of 2 resources rejected', {
      code: 'EDG_ERR_INVALID',
      details: [{ name: 'x' }],
      partialResult: { results: [1, 2] },
    });
    assert.deepEqual(toErrorDocument(e), {
      results: [1, 2],
      error: { code: 'EDG_ERR_INVALID', message: '1 of 2 resources rejected', details: [{ name: 'x' }] },
    });
    assert.deepEqual(toErrorDocument(cliError('usage', 'bad')).error.details, null);
  });
});

describe('resolveKind', () => {
  it('accepts the kind in any case, plurals and short names', () => {
    for (const [input, kind] of [
      ['HTTPRoute', 'HTTPRoute'],
      ['httproute', 'HTTPRoute'],
      ['httproutes', 'HTTPRoute'],
      ['httproutes.gateway.networking.k8s.io', 'HTTPRoute'],
      ['gtw', 'Gateway'],
      ['gatewayclasses', 'GatewayClass'],
      ['svc', 'Service'],
      ['backendtlspolicies', 'BackendTLSPolicy'],
      ['edgiongwconfig', 'EdgionGatewayConfig'],
      ['EdgionPlugins', 'EdgionPlugins'],
    ] as const) {
      assert.equal(resolveKind(input)?.kind, kind, input);
    }
  });
  it('knows which kinds are cluster-scoped', () => {
    const cluster = KINDS.filter((k) => k.scope === 'Cluster').map((k) => k.kind);
    assert.deepEqual(cluster.sort(), ['EdgionGatewayConfig', 'GatewayClass', 'Namespace']);
  });
  it('returns undefined for an unknown kind, and lists every kind of CONTRACT.md', () => {
    assert.equal(resolveKind('frobnicator'), undefined);
    assert.equal(kindNames().length, 22);
  });
});
