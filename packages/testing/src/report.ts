// A conformance report as text: one PASS/FAIL line per check, then each failure with the §3 row it
// breaks, what was sent and what came back.
import type { ConformanceCheck, ConformanceReport } from "./conformance";

/** `[ 3/57] PASS  accepts user.updated`, or for a failure the row and the answer too. */
export function formatProgress(
  check: ConformanceCheck,
  { index, total }: { index: number; total: number },
): string {
  const position = `[${String(index).padStart(String(total).length)}/${total}]`;
  if (check.passed) return `${position} PASS  ${check.name}`;
  return `${position} FAIL  ${check.name}: expected ${check.expected}, got ${check.actual}  (row: ${check.row})`;
}

/** The whole report as a table, followed by the failures and the rows they break. */
export function formatConformanceReport(report: ConformanceReport): string {
  const nameWidth = Math.max(0, ...report.checks.map((check) => check.name.length));
  // Wide enough for "503 + Retry-After"; a longer expectation just pushes its own line out.
  const expectedWidth = Math.min(17, Math.max(0, ...report.checks.map((check) => check.expected.length)));
  const lines = [`Conformance of ${report.url}${report.cooperative ? " (cooperative mode)" : ""}`, ""];
  for (const check of report.checks) {
    const verdict = check.passed ? "PASS" : "FAIL";
    lines.push(
      `${verdict}  ${check.name.padEnd(nameWidth)}  expected ${check.expected.padEnd(expectedWidth)}  got ${check.actual}`,
    );
  }
  if (report.stopped) {
    lines.push(
      "",
      `Stopped after the first request: ${report.stopped.message}`,
      "The other checks did not run.",
    );
    return lines.join("\n");
  }
  const failed = report.checks.filter((check) => !check.passed);
  if (failed.length > 0) {
    lines.push("", "Failures:");
    for (const check of failed) {
      lines.push(
        `- ${check.name}`,
        `  row:      ${check.row}`,
        `  expected: ${check.expected}, got ${check.actual}`,
        `  detail:   ${check.detail}`,
      );
    }
    const rows = [...new Set(failed.map((check) => check.row))];
    lines.push(
      "",
      "Rows of the decision table (SPEC §3) this receiver breaks:",
      ...rows.map((row) => `- ${row}`),
    );
  }
  const passed = report.checks.length - failed.length;
  lines.push("", `${report.checks.length} checks: ${passed} passed, ${failed.length} failed.`);
  return lines.join("\n");
}
