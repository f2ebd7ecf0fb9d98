// The committed `optare-webhooks` launcher (bin/), which package managers link before anything is
// built: it must say what to do when dist/ is missing, and run the CLI when it is there.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const launcher = fileURLToPath(new URL("../bin/optare-webhooks.mjs", import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A package directory holding the launcher, and dist/cli.js when `cli` is given. */
function packageWith(cli?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "optare-launcher-"));
  dirs.push(dir);
  mkdirSync(join(dir, "bin"));
  copyFileSync(launcher, join(dir, "bin/optare-webhooks.mjs"));
  if (cli !== undefined) {
    mkdirSync(join(dir, "dist"));
    writeFileSync(join(dir, "dist/cli.js"), cli);
  }
  return dir;
}

const run = (dir: string) =>
  spawnSync(process.execPath, [join(dir, "bin/optare-webhooks.mjs"), "--help"], { encoding: "utf8" });

describe("the optare-webhooks launcher", () => {
  it("exits 1 with one line saying to build when dist/cli.js is missing", () => {
    const result = run(packageWith());
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^optare-webhooks: .*dist\/cli\.js is missing: not built yet\. .*pnpm build/,
    );
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("runs the built CLI with the arguments it was given", () => {
    const result = run(packageWith('console.log("cli ran with", process.argv.slice(2).join(" "));\n'));
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("cli ran with --help\n");
  });

  it("does not hide a module missing inside the CLI", () => {
    const result = run(packageWith('import "./no-such-module.js";\n'));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("ERR_MODULE_NOT_FOUND");
    expect(result.stderr).not.toContain("not built yet");
  });
});
