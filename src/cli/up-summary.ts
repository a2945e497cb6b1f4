// The "what runs where" block of `edgion-ctl up`, printed by a foreground `up` once
// ready and by `up --detach` from the background process's up.json.

import path from 'node:path';
import { DEMO_REQUEST_HEADER } from './demo/demo-config.js';
import type { UpRunFile } from './run-files.js';

/** What runs where: printed by a foreground `up` and by `up --detach`. */
export function readySummary(info: UpRunFile): string[] {
  const show = (p: string) => displayPath(p);
  const lines = [
    info.detached
      ? `edgion is running in the background (supervisor pid ${info.pid})`
      : `edgion is up (supervisor pid ${info.pid}; Ctrl-C stops everything)`,
    `  controller   pid ${info.controllerPid}   admin ${info.controllerUrl}   grpc 127.0.0.1:${info.ports.controllerGrpc}`,
    `  gateway      pid ${info.gatewayPid}   admin ${info.gatewayUrl}`,
    `  conf dir     ${show(info.confDir)}`,
    `  work dir     ${show(info.workDir)}`,
    `  logs         ${Object.values(info.logs).map(show).join(', ')}`,
  ];
  if (info.detached) lines.push(`  stop with    edgion-ctl down --work-dir ${show(info.workDir)}`);
  if (info.demo) {
    const base = `http://127.0.0.1:${info.ports.demoListener}`;
    lines.push(
      '',
      `Demo: a Gateway on 127.0.0.1:${info.ports.demoListener} routes to a built-in echo backend (127.0.0.1:${info.ports.demoEcho}).`,
      `  try: curl -i ${base}/hello`,
      `       curl -s ${base}/headers    (the route adds the request header ${DEMO_REQUEST_HEADER}; the echo shows it)`,
      `  edit ${show(path.join(info.confDir, '*.yaml'))} and watch it reload`,
    );
  }
  return lines;
}

function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
