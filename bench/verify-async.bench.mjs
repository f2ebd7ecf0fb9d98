// verifySignatureAsync (Web Crypto) against the synchronous node:crypto floor (createHmac +
// timingSafeEqual), each call awaited before the next one starts: the cost one request pays. The
// 265-byte body is SPEC §1's second vector. Web Crypto's own floor is shown too: one bare
// `crypto.subtle.sign` / `verify` call with the key imported and the bytes ready, which is what a
// verification cannot go below (on Node each is a round trip to libuv's thread pool). Runs against the
// built package (`pnpm build` first).
import { createHmac, timingSafeEqual } from "node:crypto";
import { sign, verifySignature, verifySignatureAsync } from "@optare/webhooks/verify";
import { compareAsync } from "./harness.mjs";

const ROUND_MS = 25;
const ROUNDS = 21;

const secret = "0123456789abcdef".repeat(4);
const small =
  '{"event":"user.created","timestamp":"2025-11-11T10:30:00Z","id":"evt_1a2b3c4d","data":{"user":{"id":"user_123","email":"john@example.com","name":"John Doe","emailVerified":false,"createdAt":"2025-11-11T10:30:00Z"}},"organization":{"id":"org_abc","name":"Acme Inc"}}';
const large = JSON.stringify({
  event: "oauth.client.created",
  timestamp: "2025-11-11T10:30:00Z",
  id: "evt_5e6f7g8h",
  data: {
    client: {
      id: "client_1",
      name: "Reporting App",
      redirectUris: Array.from({ length: 420 }, (_, i) => `https://app${i}.example.com/oauth/cb`),
      createdAt: "2025-11-11T10:30:00Z",
    },
  },
  organization: { id: "org_abc", name: "Acme Inc" },
});

// The floor: what Optare's documentation does by hand, with node:crypto and nothing else.
function rawVerify(body, signature) {
  const digest = createHmac("sha256", secret).update(body).digest("hex");
  return signature.length === digest.length && timingSafeEqual(Buffer.from(signature), Buffer.from(digest));
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Runs `n` calls one after another: a plain loop for a sync case, each call awaited for an async one. */
async function run(plan, n) {
  const { fn } = plan;
  const start = process.hrtime.bigint();
  if (plan.async) for (let i = 0; i < n; i++) await fn();
  else for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - start) / n;
}

/** Interleaved rounds (drift hits every case alike) of ~25 ms each; median ns/op and its ratio to the baseline. */
async function sequential(title, cases) {
  const plans = cases.map((c) => ({ ...c, samples: [] }));
  for (const plan of plans) {
    await run(plan, 2000); // warm up the JIT (and the key cache)
    const ns = await run(plan, 2000);
    plan.iterations = Math.max(1, Math.round((ROUND_MS * 1e6) / ns));
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const plan of round % 2 === 0 ? plans : [...plans].reverse()) {
      plan.samples.push(await run(plan, plan.iterations));
    }
  }
  const baseNs = median(plans.find((plan) => plan.baseline).samples);
  console.log(`\n${title}  (ratio = time / the baseline; lower is faster)`);
  console.table(
    plans.map((plan) => {
      const ns = median(plan.samples);
      return {
        case: plan.name,
        "ns/op": ns.toFixed(0),
        "ops/s": Math.round(1e9 / ns),
        ratio: (ns / baseNs).toFixed(2),
      };
    }),
  );
  return Object.fromEntries(plans.map((plan) => [plan.name, median(plan.samples) / baseNs]));
}

const key = await crypto.subtle.importKey(
  "raw",
  new TextEncoder().encode(secret),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["sign", "verify"],
);

const results = {};
for (const [label, body] of [
  [`${small.length} B body`, small],
  [`~${(large.length / 1024).toFixed(0)} KiB body`, large],
]) {
  const signature = sign(body, secret);
  const bytes = new TextEncoder().encode(body);
  const digest = Buffer.from(signature, "hex");
  if (!rawVerify(body, signature) || !(await verifySignatureAsync(body, signature, secret))) {
    throw new Error("bad setup");
  }
  results[label] = await sequential(`verifySignatureAsync awaited one at a time, ${label}`, [
    { name: "raw createHmac + timingSafeEqual", fn: () => rawVerify(body, signature), baseline: true },
    { name: "verifySignature", fn: () => verifySignature(body, signature, secret) },
    { name: "verifySignatureAsync", fn: () => verifySignatureAsync(body, signature, secret), async: true },
    {
      name: "bare subtle.sign (Web Crypto floor)",
      fn: () => crypto.subtle.sign("HMAC", key, bytes),
      async: true,
    },
    {
      name: "bare subtle.verify (Web Crypto floor)",
      fn: () => crypto.subtle.verify("HMAC", key, digest, bytes),
      async: true,
    },
  ]);
}

// For information: throughput with 16 verifications in flight (what a busy server sees).
const signature = sign(small, secret);
await compareAsync(`verifySignatureAsync, 16 in flight, ${small.length} B body`, [
  { name: "raw createHmac + timingSafeEqual", fn: async () => rawVerify(small, signature), baseline: true },
  { name: "verifySignatureAsync", fn: () => verifySignatureAsync(small, signature, secret) },
]);

const target = 5;
const ratios = results[`${small.length} B body`];
const ours = ratios.verifySignatureAsync;
const floor = Math.min(
  ratios["bare subtle.sign (Web Crypto floor)"],
  ratios["bare subtle.verify (Web Crypto floor)"],
);
console.log(
  `\n${ours <= target ? "✓" : "✗"} verifySignatureAsync, ${small.length} B body, awaited one at a time: ` +
    `${ours.toFixed(2)}× the sync floor (target ≤ ${target.toFixed(2)}×; a bare Web Crypto call: ${floor.toFixed(2)}×)`,
);
