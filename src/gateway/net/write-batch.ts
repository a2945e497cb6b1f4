// Socket writes held until the event loop has handled every event that was ready, then sent
// together. Under load one turn of the loop serves many connections; writing each answer (and
// each upstream request) the moment it is ready wakes the peer's process once per write, and on
// a virtual machine a wake-up of an idle CPU costs the writer more than the write itself. Held
// writes leave in one burst at the end of the turn (setImmediate runs right after the poll phase,
// so an idle gateway adds no delay: its only event is handled and written at once). Each socket is
// corked at its first held write and uncorked once, so its bytes keep their order and a large
// body still flows with backpressure (write() returns false past the high-water mark as usual).

import type { Writable } from 'node:stream';

/** On a held socket: the turn (WriteBatch.turn) it is held in; a property, cheaper than a Set lookup per write. */
const kHeldIn = Symbol('edgion.heldIn');
type Holdable = Writable & { [kHeldIn]?: number };
/** Turn numbers are unique across batches (a socket marked by one batch is not held by another). */
let lastTurn = 0;

export class WriteBatch {
  private held: Holdable[] = [];
  /** This batch's current turn: a socket marked with it is held already. */
  private turn = ++lastTurn;
  private scheduled = false;

  /** `enabled: false` writes at once (EDGION_WRITE_BATCH=0, for comparison). */
  constructor(readonly enabled = true) {}

  /** Holds what `socket` is written from now until the end of this turn of the event loop. */
  hold(socket: Writable): void {
    const s = socket as Holdable;
    if (!this.enabled || s[kHeldIn] === this.turn || s.destroyed) return;
    s.cork();
    s[kHeldIn] = this.turn;
    this.held.push(s);
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
    this.turn = ++lastTurn;
    // end() uncorks fully, and uncork() on a socket that is no longer corked does nothing.
    for (let i = 0; i < sockets.length; i++) sockets[i]!.uncork();
  };
}
