// Socket writes held until the event loop has handled every event that was ready, then sent
// together. Under load one turn of the loop serves many connections; writing each answer (and
// each upstream request) the moment it is ready wakes the peer's process once per write, and on
// a virtual machine a wake-up of an idle CPU costs the writer more than the write itself. Held
// writes leave in one burst at the end of the turn (setImmediate runs right after the poll phase,
// so an idle gateway adds no delay: its only event is handled and written at once). Each socket is
// corked at its first held write and uncorked once, so its bytes keep their order and a large
// body still flows with backpressure (write() returns false past the high-water mark as usual).

import type { Writable } from 'node:stream';

export class WriteBatch {
  private held: Writable[] = [];
  private readonly holding = new Set<Writable>();
  private scheduled = false;

  /** `enabled: false` writes at once (EDGION_WRITE_BATCH=0, for comparison). */
  constructor(readonly enabled = true) {}

  /** Holds what `socket` is written from now until the end of this turn of the event loop. */
  hold(socket: Writable): void {
    if (!this.enabled || this.holding.has(socket) || socket.destroyed) return;
    socket.cork();
    this.holding.add(socket);
    this.held.push(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sockets holding writes now (tests). */
  get size(): number {
    return this.held.length;
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const sockets = this.held;
    this.held = [];
    this.holding.clear();
    // end() uncorks fully, and uncork() on a socket that is no longer corked does nothing.
    for (let i = 0; i < sockets.length; i++) sockets[i]!.uncork();
  };
}
