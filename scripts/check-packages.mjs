// Packaging checks for every published package: publint, then @arethetypeswrong/cli on the packed
// tarball, then ESM and CJS imports of each entry from plain Node. Run after `pnpm build`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const packages = readdirSync(join(root, "packages"))
  .map((dir) => join(root, "packages", dir))
  .filter((dir) => {
    try {
      return !JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).private;
    } catch {
      return false;
    }
  });

const run = (command, args, cwd) => execFileSync(command, args, { cwd, stdio: "inherit" });
const out = mkdtempSync(join(tmpdir(), "optare-pack-"));
try {
  for (const dir of packages) {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    console.log(`\n▶ ${pkg.name}`);
    run(bin("publint"), ["--strict"], dir);
    const tarball = execFileSync("pnpm", ["pack", "--pack-destination", out], { cwd: dir, encoding: "utf8" })
      .trim()
      .split("\n")
      .pop();
    // --profile node16: the supported consumers are Node ≥ 20 and bundlers (node10 resolution is not).
    // Entries published as ESM only (no `require` condition) are checked for ESM consumers only.
    const esmOnly = Object.entries(pkg.exports)
      .filter(([, target]) => typeof target === "object" && !target.require && !target.import)
      .map(([subpath]) => subpath);
    const exclude = esmOnly.length > 0 ? ["--exclude-entrypoints", ...esmOnly] : [];
    run(bin("attw"), [tarball, "--profile", "node16", ...exclude], dir);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === "./package.json" || typeof target !== "object") continue;
      const specifier = pkg.name + subpath.slice(1);
      // Each entry must load from plain Node as ESM, and as CJS unless it is ESM-only (bins are not entries).
      run("node", ["--input-type=module", "-e", `await import(${JSON.stringify(specifier)})`], dir);
      if (target.require) run("node", ["-e", `require(${JSON.stringify(specifier)})`], dir);
      console.log(`  ${specifier}: ${target.require ? "ESM and CJS load" : "ESM loads (ESM-only entry)"}`);
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
