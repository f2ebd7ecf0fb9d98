import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toEventId, toJobId } from "./job-id";

/** BullMQ 6's own checks on custom job ids (Job.validateOptions). */
function bullmqAccepts(jobId: string): boolean {
  return `${Number.parseInt(jobId, 10)}` !== jobId && !jobId.includes(":");
}

describe("event id ↔ job id", () => {
  it("keeps ordinary event ids as they are", () => {
    for (const id of ["evt_1a2b3c4d", "evt_x", "1e3", " 12", "abc"]) expect(toJobId(id)).toBe(id);
  });

  it("escapes the ids BullMQ refuses, and ids with a %", () => {
    expect(toJobId("123")).toBe("%123");
    expect(toJobId("-1")).toBe("%-1");
    expect(toJobId("a:b")).toBe("%a%3Ab");
    expect(toJobId("50%")).toBe("%50%25");
    expect(toJobId("%3A")).toBe("%%253A");
  });

  it("is one-to-one, reversible, and always acceptable to BullMQ", () => {
    const id = fc.oneof(
      fc.string({
        minLength: 1,
        unit: fc.constantFrom("1", "0", "-", ":", "%", "3", "A", "2", "5", "e", "_"),
      }),
      fc.string({ minLength: 1 }),
      fc.integer().map(String),
    );
    fc.assert(
      fc.property(id, id, (a, b) => {
        expect(bullmqAccepts(toJobId(a))).toBe(true);
        expect(toEventId(toJobId(a))).toBe(a);
        if (a !== b) expect(toJobId(a)).not.toBe(toJobId(b));
      }),
      { numRuns: 2_000 },
    );
  });
});
