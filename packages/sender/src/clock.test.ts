import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createVirtualClock, systemClock } from "./clock";

describe("createVirtualClock", () => {
  it("fires timers in due order (ties in creation order), each at its due time", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 200 }), async (delays) => {
        const clock = createVirtualClock(1_000);
        const fired: Array<{ index: number; at: number }> = [];
        for (const [index, delay] of delays.entries()) {
          clock.setTimeout(() => fired.push({ index, at: clock.now() }), delay);
        }
        expect(clock.pending).toBe(delays.length);
        expect(await clock.runAll()).toBe(delays.length);
        const expected = delays
          .map((delay, index) => ({ index, at: 1_000 + delay }))
          .sort((a, b) => a.at - b.at || a.index - b.index);
        expect(fired).toEqual(expected);
        expect(clock.pending).toBe(0);
      }),
    );
  });

  it("advance() fires only what is due and lands exactly on the target", async () => {
    const clock = createVirtualClock(new Date("2026-01-01T00:00:00Z"));
    const start = clock.now();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now() - start), 100);
    clock.setTimeout(() => fired.push(clock.now() - start), 250);
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([100]);
    expect(clock.nextAt()).toBe(start + 250);
    await clock.advance(1_000);
    expect(fired).toEqual([100, 250]);
    expect(clock.now()).toBe(start + 1_100);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });

  it("awaits the work a timer starts, so follow-up timers land at the right virtual time", async () => {
    const clock = createVirtualClock(0);
    const log: string[] = [];
    clock.setTimeout(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // real I/O-like wait
      log.push(`first done at ${clock.now()}`);
      clock.setTimeout(() => log.push(`second at ${clock.now()}`), 60_000);
    }, 10);
    expect(await clock.runAll()).toBe(2);
    expect(log).toEqual(["first done at 10", "second at 60010"]);
  });

  it("clearTimeout cancels; cancelling twice or a fired timer is harmless", async () => {
    const clock = createVirtualClock(0);
    const fired: string[] = [];
    const a = clock.setTimeout(() => fired.push("a"), 10);
    const b = clock.setTimeout(() => fired.push("b"), 20);
    clock.clearTimeout(a);
    clock.clearTimeout(a);
    expect(clock.pending).toBe(1);
    expect(clock.nextAt()).toBe(20);
    await clock.runAll();
    clock.clearTimeout(b);
    expect(fired).toEqual(["b"]);
    expect(clock.pending).toBe(0);
    expect(clock.nextAt()).toBeNull();
  });

  it("runAll() stops a timer that keeps rescheduling itself", async () => {
    const clock = createVirtualClock(0);
    const tick = () => clock.setTimeout(tick, 1);
    tick();
    await expect(clock.runAll({ maxTimers: 100 })).rejects.toThrow(/more than 100 timers/);
  });

  it("reports failing callbacks after running the whole batch", async () => {
    const clock = createVirtualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => {
      throw new Error("boom");
    }, 5);
    clock.setTimeout(() => fired.push("ok"), 5);
    await expect(clock.advance(5)).rejects.toThrow(AggregateError);
    expect(fired).toEqual(["ok"]);
  });
});

describe("systemClock", () => {
  it("is Date.now and real timers", async () => {
    const before = Date.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
    const fired = await new Promise<boolean>((resolve) => {
      const cancelled = systemClock.setTimeout(() => resolve(false), 1);
      systemClock.clearTimeout(cancelled);
      systemClock.setTimeout(() => resolve(true), 2);
    });
    expect(fired).toBe(true);
  });
});
