import net from 'node:net';

// Ports a test names in YAML (Gateway listeners...) come from 20000-31999, below Linux's ephemeral
// range (32768-60999). A port taken with listen(0) and released could be handed out again by the
// OS to the next listen(0) (a gateway's admin API on port 0, say) before the test binds it: that
// race made e2e tests fail now and then. Each test process walks its own stretch of the range
// (offset by its pid) and checks that the port can be bound.
const LOW = 20000;
const HIGH = 31999;
let next = LOW + ((process.pid * 7919) % (HIGH - LOW + 1));

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1 and that the OS does not hand out for port 0. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries <= HIGH - LOW; tries++) {
    const port = next;
    next = next >= HIGH ? LOW : next + 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${LOW}-${HIGH} on 127.0.0.1`);
}
