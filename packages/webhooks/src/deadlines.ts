// Per-request deadlines (the ack deadline, the claim's heartbeat) on one timer per delay rather than one
// per request. Every deadline of a queue has the same delay, so they fall due in the order they were
// added: a Set kept in insertion order is the whole schedule, and the timer only ever waits for its head.
//
// Receipt: a request's two timers (ack deadline, heartbeat) live for microseconds, so Node created and
// dropped a timer list and re-armed its libuv timer twice per delivery. On node:http with the default
// memory store (bench/node-http.bench.mjs servers, this build against the one with a setTimeout per
// deadline, 16 alternating pairs, Node 20, 2 busy cores) server CPU per delivery went 95.8 -> 87.5 µs
// (-9% pooled; median pair -6%, range of pairs +16%..-46%).

export interface Deadlines {
  /** Calls `fire` once the queue's delay has passed, unless the returned function cancels it first. */
  add(fire: () => void): () => void;
}

interface Entry {
  at: number;
  fire: () => void;
}

type Timer = ReturnType<typeof setTimeout> & { ref?: () => unknown; unref?: () => unknown };

const now = () => performance.now();

/**
 * A queue of deadlines `delayMs` after each `add`. `keepAlive`: whether a pending deadline keeps the
 * process alive (like a plain `setTimeout`) or not (like an unref'd one); an idle queue never does.
 *
 * The shared timer is used only where timers belong to the process (Node, Bun: `setTimeout` returns an
 * object with `unref`). Elsewhere (Workers, Vercel Edge, Deno) a timer started while serving one request
 * must not fire another's deadline, so each deadline there gets a timer of its own.
 */
export function createDeadlines(delayMs: number, { keepAlive }: { keepAlive: boolean }): Deadlines {
  const entries = new Set<Entry>();
  let timer: Timer | undefined;
  /** Unknown until the first deadline's own timer shows what kind of timers this runtime has. */
  let shared: boolean | undefined;

  function own(fire: () => void): () => void {
    const single = setTimeout(fire, delayMs) as Timer;
    shared ??= typeof single === "object" && typeof single.unref === "function";
    if (!keepAlive) single.unref?.();
    return () => clearTimeout(single);
  }

  function arm(at: number): void {
    timer = setTimeout(expire, Math.max(0, at - now())) as Timer;
    if (!keepAlive) timer.unref?.();
  }

  function expire(): void {
    timer = undefined;
    const at = now();
    for (const entry of entries) {
      if (entry.at > at) {
        arm(entry.at);
        return;
      }
      entries.delete(entry);
      entry.fire();
    }
  }

  return {
    add(fire) {
      if (shared !== true) return own(fire);
      const entry: Entry = { at: now() + delayMs, fire };
      entries.add(entry);
      if (timer === undefined) arm(entry.at);
      else if (keepAlive && entries.size === 1) timer.ref?.();
      return () => {
        // An emptied queue keeps its timer (the next request reuses it) but lets the process exit.
        if (entries.delete(entry) && keepAlive && entries.size === 0) timer?.unref?.();
      };
    },
  };
}
