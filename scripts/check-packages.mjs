// Packaging checks for every published package: publint, then the packed tarball (it ships the root
// LICENSE), @arethetypeswrong/cli on it, then ESM and CJS imports of each entry from plain Node.
// Run after `pnpm build`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const license = readFileSync(join(root, "LICENSE"));
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
    const packed = (file) => {
      try {
        return execFileSync("tar", ["-xzOf", tarball, `package/${file}`], {
          stdio: ["ignore", "pipe", "pipe"],
        });
      } catch {
        throw new Error(`${pkg.name}: the tarball has no ${file}`);
      }
    };
    // The tarball carries the repository's LICENSE, byte for byte.
    if (!packed("LICENSE").equals(license))
      throw new Error(`${pkg.name}: its LICENSE differs from the root one`);
    console.log("  LICENSE: packed, identical to the root one");
    // Peer ranges as published (workspace: resolved) are bounded: every `||` alternative is a caret,
    // tilde or exact version, or has an upper bound, so no future major is promised to work.
    const { peerDependencies = {} } = JSON.parse(packed("package.json"));
    for (const [name, range] of Object.entries(peerDependencies)) {
      const unbounded = range
        .split("||")
        .some((part) => !/^\s*([~^]?\d|.*<)/.test(part) || /[*xX]/.test(part));
      if (unbounded) throw new Error(`${pkg.name}: peer ${name}@"${range}" has no upper bound`);
    }
    console.log(
      `  peers: ${
        Object.entries(peerDependencies)
          .map(([n, r]) => `${n}@${r}`)
          .join(", ") || "none"
      }`,
    );
    // The main entry's declarations import no optional peer: an app without it (postgres.js alone, no
    // `pg`) would get TS2307 from our .d.ts under `skipLibCheck: false`. Subpath entries named for an
    // optional peer (`/drizzle`, `/otel`) may import it; their users have it.
    const meta = JSON.parse(packed("package.json")).peerDependenciesMeta ?? {};
    const optional = new Set(Object.keys(meta).filter((name) => meta[name]?.optional));
    const main = pkg.exports["."];
    const typeFiles = [main?.import?.types, main?.require?.types, main?.types].filter(Boolean);
    const seen = new Set();
    const imported = new Set();
    const visit = (file) => {
      const path = file.replace(/^\.\//, "");
      if (seen.has(path)) return;
      seen.add(path);
      const text = packed(path).toString("utf8");
      // `import … from "x"` and `export … from "x"` (over several lines too), and `import("x")`.
      for (const match of text.matchAll(
        /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
      )) {
        const specifier = match[1] ?? match[2];
        if (specifier.startsWith("."))
          visit(
            join(path, "..", specifier)
              .replace(/\.js$/, ".d.ts")
              .replace(/\.cjs$/, ".d.cts"),
          );
        else
          imported.add(
            specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0],
          );
      }
    };
    for (const file of typeFiles) visit(file);
    const leaked = [...imported].filter((name) => optional.has(name));
    if (leaked.length > 0) {
      throw new Error(`${pkg.name}: the main entry's types import optional peer(s) ${leaked.join(", ")}`);
    }
    console.log(
      `  main entry types import: ${[...imported].sort().join(", ") || "nothing"} (no optional peer)`,
    );
    // Every resolution mode, node10 included (subpaths reach it through `typesVersions`). Entries
    // published as ESM only (no `require` condition) are checked for ESM consumers only; plain files
    // (a `.sql`) have no types to check.
    const esmOnly = Object.entries(pkg.exports)
      .filter(([, target]) => typeof target === "object" && !target.require && !target.import)
      .map(([subpath]) => subpath);
    const files = Object.entries(pkg.exports)
      .filter(([subpath, target]) => typeof target === "string" && subpath !== "./package.json")
      .map(([subpath]) => subpath);
    const skipped = [...esmOnly, ...files];
    const exclude = skipped.length > 0 ? ["--exclude-entrypoints", ...skipped] : [];
    run(bin("attw"), [tarball, ...exclude], dir);
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
