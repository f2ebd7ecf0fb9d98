// What a cooperative controller knows: the event ids the kit watches, what to do when their handler
// runs (throw once, wait to be let go), and how often it ran. Only watched ids are recorded, so a
// controller left installed holds nothing for real traffic.

/** How often the handler ran for one event id. */
export interface HandlerRuns {
  /** Runs that began. */
  started: number;
  /** Runs that ended without an error. */
  finished: number;
  /** Runs that threw (the kit's planned throw). */
  failed: number;
}

export interface Plan {
  /** The first run throws. */
  throwOnce?: boolean;
  /** Runs wait until `release(id)` (or the controller's maxBlockMs). */
  block?: boolean;
}

interface Watched extends HandlerRuns {
  plan: Plan;
  thrown: boolean;
  gate?: Promise<void>;
  open?: () => void;
}

export interface CooperativeState {
  hook(event: { id: string }): Promise<void>;
  /** Records runs for `id` from now on, and acts on them as `plan` says. */
  watch(id: string, plan?: Plan): void;
  runs(id: string): HandlerRuns;
  /** Lets the waiting runs of `id` go on. */
  release(id: string): void;
  /** Resolves true once `predicate` holds, false when `timeoutMs` passed first. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Releases every waiting run and forgets every id. */
  reset(): void;
}

/** Thrown by a handler on the kit's cue. */
export class PlannedFailure extends Error {
  override readonly name = "PlannedFailure";
}

export function createCooperativeState(maxBlockMs: number): CooperativeState {
  const watched = new Map<string, Watched>();
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };

  function release(id: string): void {
    watched.get(id)?.open?.();
  }

  return {
    async hook(event) {
      const entry = typeof event?.id === "string" ? watched.get(event.id) : undefined;
      if (entry === undefined) return;
      entry.started++;
      notify();
      try {
        if (entry.plan.throwOnce && !entry.thrown) {
          entry.thrown = true;
          throw new PlannedFailure(`The conformance kit's planned handler failure for ${event.id}.`);
        }
        if (entry.gate !== undefined) await entry.gate;
      } catch (error) {
        entry.failed++;
        notify();
        throw error;
      }
      entry.finished++;
      notify();
    },
    watch(id, plan = {}) {
      const entry: Watched = { plan, thrown: false, started: 0, finished: 0, failed: 0 };
      if (plan.block) {
        entry.gate = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, maxBlockMs);
          timer.unref?.();
          entry.open = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      watched.set(id, entry);
    },
    runs(id) {
      const entry = watched.get(id);
      return { started: entry?.started ?? 0, finished: entry?.finished ?? 0, failed: entry?.failed ?? 0 };
    },
    release,
    waitFor(predicate, timeoutMs) {
      if (predicate()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (value: boolean) => {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(value);
        };
        const check = () => {
          if (predicate()) done(true);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        listeners.add(check);
      });
    },
    reset() {
      for (const id of watched.keys()) release(id);
      watched.clear();
    },
  };
}
