// Checking ports before starting anything: "port 5800 is already in use" with what
// to do about it is far clearer than a child crashing with EADDRINUSE in its log.

import net from 'node:net';
import { cliError } from './errors.js';

export interface PortClaim {
  port: number;
  /** What the port is for, e.g. "controller admin API". */
  purpose: string;
  /** The flag that sets it, e.g. "--admin-port". */
  flag: string;
}

/** True when 127.0.0.1:port can be bound right now. */
export function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws EDG_ERR_USAGE for a port given twice, EDG_ERR_PORT_IN_USE for a busy one. Port 0 is skipped. */
export async function checkPortsFree(claims: readonly PortClaim[], stopHint: string): Promise<void> {
  const fixed = claims.filter((c) => c.port !== 0);
  const seen = new Map<number, PortClaim>();
  for (const claim of fixed) {
    const other = seen.get(claim.port);
    if (other) throw cliError('usage', `${other.flag} and ${claim.flag} are both ${claim.port}; each process needs its own port`);
    seen.set(claim.port, claim);
  }
  for (const claim of fixed) {
    if (!(await canBind(claim.port))) {
      throw cliError('portInUse', `port ${claim.port} (${claim.purpose}) is already in use on 127.0.0.1`, {
        details: { port: claim.port, purpose: claim.purpose, flag: claim.flag },
        hint: `Is another edgion running? ${stopHint} Or choose another port with ${claim.flag} (0 picks a free one).`,
      });
    }
  }
}
