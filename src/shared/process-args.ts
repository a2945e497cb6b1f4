// Flag parsing for the two server binaries (edgion-controller, edgion-gateway). They are started
// by edgion-ctl or by hand; errors print the usage and exit 2, like the CLI.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    if ((values as { help?: boolean }).help) {
      process.stdout.write(usage + '\n');
      process.exit(0);
    }
    return values as { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
}

export function intFlag(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`--${name} must be an integer between 0 and 65535 (got "${value}")\n`);
    process.exit(2);
  }
  return n;
}
