import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkRegex, compileRegex } from '../../../src/api/regex.js';

describe('checkRegex', () => {
  const valid = ['^/v[0-9]+', '^(en|fr)$', '(?i)^/API', 'a(?:b|c)', '(?<year>\\d{4})', 'x(?=y)', '(?i)curl/'];
  for (const p of valid) it(`accepts ${p}`, () => assert.equal(checkRegex(p), undefined));

  const invalid: Array<[string, string]> = [
    ['a(', 'invalid regular expression "a(": Unterminated group'],
    ['[z-a]', 'invalid regular expression "[z-a]": Range out of order in character class'],
    ['(?s)a.b', 'invalid regular expression "(?s)a.b": inline flag group "(?s)" is not supported (only a leading "(?i)" is)'],
    ['(?im)a', 'invalid regular expression "(?im)a": inline flag group "(?im)" is not supported (only a leading "(?i)" is)'],
    ['a(?i)b', 'invalid regular expression "a(?i)b": inline flag group "(?i)" is not supported (only a leading "(?i)" is)'],
    ['a(?m:b)', 'invalid regular expression "a(?m:b)": inline flag group "(?m:...)" is not supported (only a leading "(?i)" is)'],
  ];
  for (const [p, message] of invalid) it(`rejects ${p}`, () => assert.equal(checkRegex(p), message));

  it('compileRegex turns a leading (?i) into the i flag', () => {
    const re = compileRegex('(?i)^/api');
    assert.equal(re.flags, 'i');
    assert.ok(re.test('/API/x'));
    assert.equal(compileRegex('^a', 'g').flags, 'g');
    assert.throws(() => compileRegex('(?s)a'), /inline flag group/);
  });
});
