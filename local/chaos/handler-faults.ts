// Invocation faults, decided inside the sandboxes but steered and counted by the chaos run:
// one small shared memory block, so every sandbox (worker thread) sees the same switch and
// counter, and the counts survive sandboxes that were stopped.
const ENABLED = 0;
const INVOCATIONS = 1;
const ERRORS = 2;
const TIMEOUTS = 3;
/** 1 while the downstream is out: every record fails (see {@link HandlerFaults.downstreamDown}). */
const DOWNSTREAM_DOWN = 4;
/** Outages that failed at least one record (an outage while nothing ran injected nothing). */
const OUTAGES = 5;
/** 1 once the data of the permanent failures is corrected (see {@link HandlerFaults.dataFixed}). */
const DATA_FIXED = 6;
/** 1 once a record failed in the current outage. */
const OUTAGE_HIT = 7;
const SLOTS = 8;

export type HandlerFault = 'error' | 'timeout';

export class HandlerFaults {
  readonly #slots: Int32Array;

  constructor(
    /** Every n-th invocation throws (after doing its work). */
    readonly errorEvery: number,
    /** Every n-th invocation hangs past its timeout (after doing its work). */
    readonly timeoutEvery: number,
    readonly buffer = new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT),
  ) {
    this.#slots = new Int32Array(buffer);
  }

  set enabled(on: boolean) {
    Atomics.store(this.#slots, ENABLED, on ? 1 : 0);
  }

  get errors(): number {
    return Atomics.load(this.#slots, ERRORS);
  }

  get timeouts(): number {
    return Atomics.load(this.#slots, TIMEOUTS);
  }

  /** The downstream the function writes to is out: every record fails with a DownstreamOutageError. */
  get downstreamDown(): boolean {
    return Atomics.load(this.#slots, DOWNSTREAM_DOWN) === 1;
  }

  set downstreamDown(down: boolean) {
    if (down && Atomics.exchange(this.#slots, DOWNSTREAM_DOWN, 1) === 0) Atomics.store(this.#slots, OUTAGE_HIT, 0);
    if (!down) Atomics.store(this.#slots, DOWNSTREAM_DOWN, 0);
  }

  /** A record failed because the downstream is out: the current outage counts as injected. */
  outageFailed(): void {
    if (Atomics.exchange(this.#slots, OUTAGE_HIT, 1) === 0) Atomics.add(this.#slots, OUTAGES, 1);
  }

  /**
   * The records that fail for good are corrected: from now on they succeed (the order-safe failure
   * modes: what unblocks a blocked partition, and lets the replay release a parked key).
   */
  get dataFixed(): boolean {
    return Atomics.load(this.#slots, DATA_FIXED) === 1;
  }

  set dataFixed(fixed: boolean) {
    Atomics.store(this.#slots, DATA_FIXED, fixed ? 1 : 0);
  }

  /** Downstream outages so far that failed at least one record. */
  get outages(): number {
    return Atomics.load(this.#slots, OUTAGES);
  }

  /** Called once per invocation: the fault this one gets, if any (counted). */
  next(): HandlerFault | undefined {
    const n = Atomics.add(this.#slots, INVOCATIONS, 1) + 1;
    if (Atomics.load(this.#slots, ENABLED) === 0) return undefined;
    if (n % this.timeoutEvery === 0) {
      Atomics.add(this.#slots, TIMEOUTS, 1);
      return 'timeout';
    }
    if (n % this.errorEvery === 0) {
      Atomics.add(this.#slots, ERRORS, 1);
      return 'error';
    }
    return undefined;
  }
}
