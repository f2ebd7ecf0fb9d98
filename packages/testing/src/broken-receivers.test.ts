// The conformance kit against receivers written by hand, without createWebhooks: the correct one passes,
// and each deliberately broken one fails, on the §3 row it breaks, black box and in cooperative mode.
import { afterEach, describe, expect, it } from "vitest";
import { BROKEN_RECEIVERS, serveHandWritten } from "./broken-receivers";
import { type ConformanceReport, runConformance } from "./conformance";
import { createCooperativeController } from "./cooperative";
import { formatConformanceReport } from "./report";
import { ROWS, type Row } from "./rows";

const secret = "0123456789abcdef".repeat(4);
const ackTimeoutMs = 200;
// A short per-request timeout: the receiver without an ack deadline is answered only when the kit gives up.
const kitOptions = { secret, ackTimeoutMs, timeoutMs: 2_000 };

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0)) await task();
});

async function check(steps: Parameters<typeof serveHandWritten>[0]["steps"], cooperativeMode: boolean) {
  const cooperative = cooperativeMode ? createCooperativeController() : undefined;
  const receiver = await serveHandWritten({ secret, steps, cooperative, ackTimeoutMs });
  cleanup.push(receiver.close);
  return runConformance({ url: receiver.url, ...kitOptions, cooperative });
}

const failedRows = (report: ConformanceReport) =>
  [...new Set(report.checks.filter((c) => !c.passed).map((c) => c.row))].sort();

describe("the conformance kit against hand-written receivers", { timeout: 30_000 }, () => {
  it("passes a correct hand-written receiver, black box and cooperative", async () => {
    for (const cooperative of [false, true]) {
      const report = await check({}, cooperative);
      expect(report.checks.filter((c) => !c.passed)).toEqual([]);
      expect(report).toMatchObject({ passed: true, cooperative });
    }
  });

  it("has a broken receiver for every row a receiver can break", () => {
    const covered = new Set(BROKEN_RECEIVERS.flatMap((receiver) => receiver.cooperative));
    const untestable: Row[] = [ROWS.firstDelivery]; // Broken by any of the others; no mistake breaks it alone.
    expect(Object.values(ROWS).filter((row) => !covered.has(row) && !untestable.includes(row))).toEqual([]);
    expect(new Set(BROKEN_RECEIVERS.map((r) => r.name)).size).toBe(BROKEN_RECEIVERS.length);
  });

  for (const broken of BROKEN_RECEIVERS) {
    describe(`${broken.name}: ${broken.mistake}`, () => {
      if (broken.blackBox.length === 0) {
        it("passes black box: only cooperative mode can see this mistake", async () => {
          const report = await check(broken.steps, false);
          expect(report.checks.filter((c) => !c.passed)).toEqual([]);
        });
      } else {
        it(`fails black box on: ${broken.blackBox.join("; ")}`, async () => {
          const report = await check(broken.steps, false);
          expect(report.passed).toBe(false);
          expect(failedRows(report)).toEqual([...broken.blackBox].sort());
          for (const row of broken.blackBox)
            expect(formatConformanceReport(report)).toContain(`row:      ${row}`);
        });
      }

      it(`fails in cooperative mode on: ${broken.cooperative.join("; ")}`, async () => {
        const report = await check(broken.steps, true);
        expect(report.passed).toBe(false);
        expect(failedRows(report)).toEqual([...broken.cooperative].sort());
        for (const row of broken.cooperative)
          expect(formatConformanceReport(report)).toContain(`row:      ${row}`);
      });
    });
  }
});
