// `node --test dist/test/unit/api/` hands the folder to Node 24, which does not expand a folder
// into its test files but loads it as a module: this file. Load every *.test.js next to it then.
// When a glob (`dist/test/**/*.js`) picks this file itself, the test files run on their own.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

if (!process.argv[1]?.endsWith('.js')) {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const f of fs.readdirSync(here).filter((n) => n.endsWith('.test.js')).sort()) await import(new URL(f, import.meta.url).href);
}
