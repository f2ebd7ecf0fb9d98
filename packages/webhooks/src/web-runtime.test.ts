// The Web build in a real Edge runtime (Vercel's @edge-runtime/vm: no `require`, no `node:crypto`,
// no `Buffer`). The source is bundled here exactly as tsup's web build does it: crypto-node → crypto-web.
import { fileURLToPath } from "node:url";
import { EdgeVM } from "@edge-runtime/vm";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";

const secret = "0123456789abcdef".repeat(4);
const vector =
  '{"event":"user.created","timestamp":"2025-11-11T10:30:00Z","id":"evt_1a2b3c4d","data":{"user":{"id":"user_123","email":"john@example.com","name":"John Doe","emailVerified":false,"createdAt":"2025-11-11T10:30:00Z"}},"organization":{"id":"org_abc","name":"Acme Inc"}}';

let vm: EdgeVM;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./index.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "iife",
    globalName: "optare",
    platform: "neutral",
    mainFields: ["module", "main"],
    plugins: [
      {
        name: "web-crypto",
        setup(b) {
          b.onResolve({ filter: /\/crypto-node$/ }, () => ({
            path: fileURLToPath(new URL("./crypto-web.ts", import.meta.url)),
          }));
          b.onResolve({ filter: /^node:/ }, (args) => ({
            errors: [{ text: `web build imports ${args.path}` }],
          }));
        },
      },
    ],
  });
  vm = new EdgeVM();
  vm.evaluate(bundle.outputFiles[0]!.text);
  expect(vm.evaluate("typeof require + typeof Buffer")).toBe("undefinedundefined");
});

describe("the Web build on an Edge runtime", () => {
  it("signs and verifies synchronously with both SPEC vectors", () => {
    expect(vm.evaluate(`optare.sign(${JSON.stringify(vector)}, ${JSON.stringify(secret)})`)).toBe(
      "e6d5c938050a5b23795883699f2a3a58ecef6b1a1e06b88e3c7d8a92fd748a78",
    );
    expect(
      vm.evaluate(
        `optare.verifySignature("Hello, World!", "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "It's a Secret to Everybody")`,
      ),
    ).toBe(true);
    expect(vm.evaluate(`optare.verifySignature("Hello, World!", "zz", "s")`)).toBe(false);
  });

  it("verifies with Web Crypto", async () => {
    const verified = await vm.evaluate(
      `optare.verifySignatureAsync(${JSON.stringify(vector)}, "e6d5c938050a5b23795883699f2a3a58ecef6b1a1e06b88e3c7d8a92fd748a78", ${JSON.stringify(secret)})`,
    );
    expect(verified).toBe(true);
  });

  it("constructs typed events", () => {
    const id = vm.evaluate(
      `optare.constructEvent(${JSON.stringify(vector)}, optare.sign(${JSON.stringify(vector)}, "s"), "s", { now: () => Date.parse("2025-11-11T11:00:00Z") }).id`,
    );
    expect(id).toBe("evt_1a2b3c4d");
  });

  it("handles a full delivery through createWebhooks().handle", async () => {
    const result = await vm.evaluate(`(async () => {
      const seen = [];
      const webhooks = optare.createWebhooks({ secret: "s", now: () => Date.parse("2025-11-11T11:00:00Z") });
      webhooks.on("user.created", (event) => { seen.push(event.data.user.email); });
      const body = ${JSON.stringify(vector)};
      const request = () => new Request("https://edge.example/webhooks", {
        method: "POST", body, headers: { "x-optare-signature": optare.sign(body, "s") },
      });
      const first = await webhooks.handle(request());
      const second = await webhooks.handle(request());
      return JSON.stringify({ statuses: [first.status, second.status], seen, duplicate: await second.json() });
    })()`);
    expect(JSON.parse(result)).toEqual({
      statuses: [200, 200],
      seen: ["john@example.com"],
      duplicate: { received: true, duplicate: true },
    });
  });
});
