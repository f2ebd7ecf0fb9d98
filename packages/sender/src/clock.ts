/** An opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = unknown;

/**
 * Time as the sender sees it: the event time, delivery timestamps and the retry schedule all come
 * from here. Inject a virtual clock to run the whole 81-minute schedule in milliseconds.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once, `ms` from now. */
  setTimeout(callback: () => unknown, ms: number): TimerHandle;
  /** Cancels a timer that has not fired yet; a no-op otherwise. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now` and the global `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * A clock that only moves when told to. Timers fire in time order during `advance`/`runAll`, and
 * each batch's callbacks are awaited before time moves on, so work a timer starts (a delivery over
 * real HTTP) finishes, and schedules its own follow-up, at the virtual instant the timer fired.
 */
export interface VirtualClock extends Clock {
  /** Moves time forward by `ms`, firing and awaiting every timer due on the way. */
  advance(ms: number): Promise<void>;
  /**
   * Fires timers in time order until none is left, including timers scheduled meanwhile. Returns
   * how many fired. Throws after `maxTimers` (default 1,000,000) so a self-rescheduling timer cannot
   * loop forever.
   */
  runAll(options?: { maxTimers?: number }): Promise<number>;
  /** The due time of the next pending timer, or null when none is pending. */
  nextAt(): number | null;
  /** How many timers are pending. */
  readonly pending: number;
}

interface Timer {
  at: number;
  seq: number;
  callback: (() => unknown) | null;
}

function earlier(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A binary min-heap on (due time, creation order): 100,000 pending timers cost O(log n) each. */
class TimerHeap {
  readonly items: Timer[] = [];

  push(timer: Timer): void {
    const items = this.items;
    let index = items.push(timer) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!earlier(timer, items[parent]!)) break;
      items[index] = items[parent]!;
      index = parent;
    }
    items[index] = timer;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  pop(): Timer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && earlier(items[right]!, items[left]!) ? right : left;
        if (!earlier(items[child]!, last)) break;
        items[index] = items[child]!;
        index = child;
      }
      items[index] = last;
    }
    return top;
  }
}

/** A `VirtualClock` starting at `start` (default: the real current time, so event timestamps look fresh). */
export function createVirtualClock(start: number | Date = Date.now()): VirtualClock {
  let now = typeof start === "number" ? start : start.getTime();
  let seq = 0;
  let live = 0;
  const heap = new TimerHeap();

  function dropCancelled(): Timer | undefined {
    let top = heap.peek();
    while (top !== undefined && top.callback === null) {
      heap.pop();
      top = heap.peek();
    }
    return top;
  }

  async function fireUntil(target: number, limit: number): Promise<number> {
    let fired = 0;
    for (let top = dropCancelled(); top !== undefined && top.at <= target; top = dropCancelled()) {
      now = Math.max(now, top.at);
      const batch: Array<() => unknown> = [];
      while (top !== undefined && top.at <= now) {
        heap.pop();
        if (top.callback !== null) {
          batch.push(top.callback);
          top.callback = null;
          live--;
        }
        top = heap.peek();
      }
      fired += batch.length;
      if (fired > limit)
        throw new Error(`VirtualClock: more than ${limit} timers fired; is a timer rescheduling itself?`);
      const results = await Promise.allSettled(batch.map(async (callback) => callback()));
      const failures = results.filter((result) => result.status === "rejected");
      if (failures.length > 0) {
        throw new AggregateError(
          failures.map((failure) => failure.reason),
          `VirtualClock: ${failures.length} timer callback(s) failed`,
        );
      }
    }
    return fired;
  }

  return {
    now: () => now,
    setTimeout(callback, ms) {
      const timer: Timer = { at: now + Math.max(0, Number(ms) || 0), seq: seq++, callback };
      heap.push(timer);
      live++;
      return timer;
    },
    clearTimeout(handle) {
      const timer = handle as Timer | undefined;
      if (timer?.callback) {
        timer.callback = null;
        live--;
      }
    },
    async advance(ms) {
      if (!(ms >= 0)) throw new RangeError("VirtualClock.advance(ms): ms must be a non-negative number");
      const target = now + ms;
      await fireUntil(target, Number.POSITIVE_INFINITY);
      now = target;
    },
    runAll({ maxTimers = 1_000_000 } = {}) {
      return fireUntil(Number.POSITIVE_INFINITY, maxTimers);
    },
    nextAt: () => dropCancelled()?.at ?? null,
    get pending() {
      return live;
    },
  };
}
