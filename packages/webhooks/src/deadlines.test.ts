import { describe, expect, it } from "vitest";
import { createDeadlines } from "./deadlines";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("createDeadlines", () => {
  it("fires each deadline once, after its delay, in the order they were added", async () => {
    const deadlines = createDeadlines(30, { keepAlive: true });
    const fired: { name: string; after: number }[] = [];
    const start = performance.now();
    const add = (name: string) => deadlines.add(() => fired.push({ name, after: performance.now() - start }));
    add("first"); // runs on a timer of its own: it tells the queue what kind of timers there are
    add("second");
    await sleep(10);
    add("third");
    await sleep(60);
    expect(fired.map((entry) => entry.name).sort()).toEqual(["first", "second", "third"]);
    const after = Object.fromEntries(fired.map((entry) => [entry.name, entry.after]));
    expect(after.second).toBeGreaterThanOrEqual(29);
    expect(after.third).toBeGreaterThanOrEqual(39);
    expect(after.third).toBeGreaterThan(after.second!);
  });

  it("never fires a cancelled deadline, and fires the others behind it on time", async () => {
    const deadlines = createDeadlines(20, { keepAlive: false });
    const fired: string[] = [];
    deadlines.add(() => fired.push("probe"));
    const cancelFirst = deadlines.add(() => fired.push("cancelled"));
    await sleep(5);
    deadlines.add(() => fired.push("kept"));
    cancelFirst();
    await sleep(40);
    expect(fired).toEqual(["probe", "kept"]);
    // A queue that emptied still serves later deadlines.
    const cancel = deadlines.add(() => fired.push("later"));
    await sleep(40);
    cancel(); // after it fired: no effect
    expect(fired).toEqual(["probe", "kept", "later"]);
  });
});
