// Where the programs `edgion-ctl up` starts live. Children run with process.execPath
// and a script path resolved from the package root, not through npx or PATH, so they
// are the same build and the same Node as the CLI itself.
//
// EDGION_CONTROLLER_BIN / EDGION_GATEWAY_BIN point `up` at other scripts (a local
// build, a wrapper, or the fakes the CLI's own tests use).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliError } from './errors.js';

export interface EdgionBins {
  controller: string;
  gateway: string;
  /** edgion-ctl itself, for `up --detach` re-launching. */
  ctl: string;
  /** The demo echo backend script. */
  echoServer: string;
}

export function findPackageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'edgion') return dir;
      } catch {
        // unreadable package.json: keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the edgion package root (package.json with "name": "edgion")');
    dir = parent;
  }
}

export function resolveBins(env: NodeJS.ProcessEnv = process.env): EdgionBins {
  const root = findPackageRoot();
  return {
    controller: path.resolve(env.EDGION_CONTROLLER_BIN || path.join(root, 'bin', 'edgion-controller.js')),
    gateway: path.resolve(env.EDGION_GATEWAY_BIN || path.join(root, 'bin', 'edgion-gateway.js')),
    ctl: path.join(root, 'bin', 'edgion-ctl.js'),
    echoServer: fileURLToPath(new URL('./demo/echo-server.js', import.meta.url)),
  };
}

/** Fails early, with a useful message, when a program to start is missing. */
export function assertBinsExist(bins: EdgionBins, names: ReadonlyArray<keyof EdgionBins>): void {
  for (const name of names) {
    if (!existsSync(bins[name])) {
      throw cliError('startFailed', `cannot find the ${name} program at ${bins[name]}`, {
        hint: 'Build the project first (npm run build), or set EDGION_CONTROLLER_BIN / EDGION_GATEWAY_BIN.',
      });
    }
  }
}
