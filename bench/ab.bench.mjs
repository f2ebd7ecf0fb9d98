// Before/after on the hot paths, in ONE process with interleaved rounds: the built core of another
// checkout (the baseline, e.g. `git worktree add /tmp/base main && (cd /tmp/base && pnpm install &&
// pnpm build)`) against this checkout's build. Usage: `node ab.bench.mjs /tmp/base`. Ratios are
// this / base: time for the sync cases (lower is faster), throughput for handle() (higher is faster).
import { createHmac } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import { resolve } from "node:path";
import { compare, compareAsync } from "./harness.mjs";

const baseDir = process.argv[2];
if (!baseDir) {
  console.error("usage: node ab.bench.mjs <checkout of the baseline, built>");
  process.exit(2);
}
const load = (dir, entry) => import(resolve(dir, "packages/webhooks/dist", entry));
const base = { core: await load(baseDir, "index.js"), node: await load(baseDir, "node.js") };
const here = {
  core: await load(resolve(import.meta.dirname, ".."), "index.js"),
  node: await load(resolve(import.meta.dirname, ".."), "node.js"),
};

const secret = "0123456789abcdef".repeat(4);
const timestamp = new Date().toISOString();
const bodyOf = (id) =>
  `{"event":"user.created","timestamp":"${timestamp}","id":"${id}","data":{"user":{"id":"user_123","email":"john@example.com","name":"John Doe","emailVerified":false,"createdAt":"${timestamp}"}},"organization":{"id":"org_abc","name":"Acme Inc"}}`;
const signOf = (body) => createHmac("sha256", secret).update(body).digest("hex");
const body = bodyOf("evt_1");
const signature = signOf(body);

await compare("constructEvent, ~273 B body: this build vs the baseline", [
  {
    name: "baseline constructEvent",
    baseline: true,
    fn: () => base.core.constructEvent(body, signature, secret),
  },
  { name: "this constructEvent", fn: () => here.core.constructEvent(body, signature, secret) },
]);

const quiet = (core) => {
  const options = { secret, store: core.memoryStore({ maxEntries: 1_000_000 }) };
  if (core === here.core) options.logger = false; // no failures are logged anyway; the option is new
  const webhooks = core.createWebhooks(options);
  webhooks.on("user.created", () => {});
  return webhooks;
};
const handleCase = (name, core, baseline) => {
  const webhooks = quiet(core);
  return {
    name,
    baseline,
    fn: async (i) => {
      const payload = bodyOf(`evt_${name}_${i}`);
      const response = await webhooks.handle(
        new Request("http://localhost/", {
          method: "POST",
          body: payload,
          headers: { "x-optare-signature": signOf(payload) },
        }),
      );
      if (response.status !== 200) throw new Error(`${name}: ${response.status}`);
    },
  };
};
await compareAsync("handle() + memoryStore, 16 concurrent: this build vs the baseline", [
  handleCase("baseline handle", base.core, true),
  handleCase("this handle", here.core),
]);

// The Node transport over real loopback HTTP, both servers up, requests alternating in rounds.
async function serve(mod) {
  const server = http.createServer(mod.node.createNodeHandler(quiet(mod.core)));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}
const servers = { base: await serve(base), here: await serve(here) };
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const post = (server, id) =>
  new Promise((done, fail) => {
    const payload = bodyOf(id);
    const req = http.request(
      {
        host: "127.0.0.1",
        port: server.address().port,
        method: "POST",
        agent,
        headers: { "x-optare-signature": signOf(payload), "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? done() : fail(new Error(`status ${res.statusCode}`))));
      },
    );
    req.on("error", fail);
    req.end(payload);
  });
await compareAsync(
  "@optare/webhooks/node over loopback HTTP, 16 concurrent: this build vs the baseline",
  [
    { name: "baseline node transport", baseline: true, fn: (i) => post(servers.base, `evt_nb_${i}`) },
    { name: "this node transport", fn: (i) => post(servers.here, `evt_nh_${i}`) },
  ],
  { rounds: 9, batch: 1000 },
);
agent.destroy();
for (const server of Object.values(servers)) server.close();
