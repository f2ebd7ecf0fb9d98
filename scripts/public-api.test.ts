// `@optare/webhooks/verify` exposes the documented signature API and nothing else: the helpers that
// src/verify.ts shares with the rest of the core (toBytes, parseSignature, …) stay internal.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const VALUES = ["SIGNATURE_HEADER", "sign", "verifySignature", "verifySignatureAsync"];
const TYPES = ["Payload", "Secrets"];

const dist = (file: string) => fileURLToPath(new URL(`../packages/webhooks/dist/${file}`, import.meta.url));
const built = existsSync(dist("verify.js"));

/** The names in a declaration file's final `export { … }` list, `type` markers dropped. */
function declaredExports(file: string): string[] {
  const lists = [...readFileSync(file, "utf8").matchAll(/^export \{([^}]*)\};?$/gm)];
  return lists
    .flatMap((match) => match[1]!.split(","))
    .map((name) => name.trim().replace(/^type\s+/, ""))
    .filter((name) => name.length > 0)
    .sort();
}

describe("@optare/webhooks/verify public API", () => {
  it("the source entry exports exactly the public names", async () => {
    const entry = await import("@optare/webhooks/verify");
    expect(Object.keys(entry).sort()).toEqual([...VALUES].sort());
  });

  describe.skipIf(!built)("the built entries (after `pnpm build`)", () => {
    it("ESM, CJS and the Web build export exactly the public names", async () => {
      const esm = await import(pathToFileURL(dist("verify.js")).href);
      const web = await import(pathToFileURL(dist("web/verify.js")).href);
      const cjs = createRequire(import.meta.url)(dist("verify.cjs"));
      for (const module of [esm, web, cjs]) expect(Object.keys(module).sort()).toEqual([...VALUES].sort());
    });

    it("the declaration files declare exactly the public names", () => {
      const expected = [...VALUES, ...TYPES].sort();
      expect(declaredExports(dist("verify.d.ts"))).toEqual(expected);
      expect(declaredExports(dist("verify.d.cts"))).toEqual(expected);
    });
  });
});
