import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostIndex, normalizeHost, hostnameMatches } from '../../../src/gateway/routing/host-index.js';

function index(names: string[]): HostIndex<string> {
  const h = new HostIndex<string>();
  for (const n of names) h.getOrCreate(n, () => n);
  return h;
}

const cases: [string[], string, string | undefined][] = [
  [['a.example.com', '*.example.com', '*'], 'a.example.com', 'a.example.com'],
  [['a.example.com', '*.example.com', '*'], 'b.example.com', '*.example.com'],
  [['a.example.com', '*.example.com', '*'], 'x.y.example.com', '*.example.com'],
  [['a.example.com', '*.example.com', '*'], 'example.com', '*'],
  [['*.example.com', '*.b.example.com'], 'a.b.example.com', '*.b.example.com'],
  [['*.example.com'], 'other.org', undefined],
  [['*'], 'anything', '*'],
];
for (const [names, host, want] of cases) {
  test(`host ${host} among [${names.join(', ')}] → ${want}`, () => assert.equal(index(names).lookup(host), want));
}

test('normalizeHost strips port, trailing dot and case', () => {
  assert.equal(normalizeHost('Shop.Example.COM:8080'), 'shop.example.com');
  assert.equal(normalizeHost('example.com.'), 'example.com');
  assert.equal(normalizeHost('[::1]:80'), '[::1]');
});

test('hostnameMatches follows listener wildcard rules', () => {
  assert.equal(hostnameMatches('*.example.com', 'a.example.com'), true);
  assert.equal(hostnameMatches('*.example.com', 'example.com'), false);
  assert.equal(hostnameMatches(undefined, 'x'), true);
  assert.equal(hostnameMatches('a.com', 'b.com'), false);
});
