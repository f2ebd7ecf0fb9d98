// verifySignature and constructEvent against the raw node:crypto floor, Stripe's constructEvent and the
// Standard Webhooks reference library (`standardwebhooks`, Svix's), on a ~300-byte and a ~16 KiB body. Runs against the built packages (`pnpm build` first).
import { createHmac, timingSafeEqual } from "node:crypto";
import { constructEvent, sign, verifySignature } from "@optare/webhooks";
import { Webhook as StandardWebhook } from "standardwebhooks";
import Stripe from "stripe";
import { compare } from "./harness.mjs";

const secret = "0123456789abcdef".repeat(4);
const stripe = new Stripe("sk_test_bench");
const standard = new StandardWebhook(Buffer.from(secret).toString("base64"));
const now = new Date().toISOString();

const small = JSON.stringify({
  event: "user.created",
  timestamp: now,
  id: "evt_1a2b3c4d",
  data: {
    user: {
      id: "user_123",
      email: "john@example.com",
      name: "John Doe",
      emailVerified: false,
      createdAt: now,
    },
  },
  organization: { id: "org_abc", name: "Acme Inc" },
});
const large = JSON.stringify({
  event: "oauth.client.created",
  timestamp: now,
  id: "evt_5e6f7g8h",
  data: {
    client: {
      id: "client_1",
      name: "Reporting App",
      redirectUris: Array.from({ length: 420 }, (_, i) => `https://app${i}.example.com/oauth/cb`),
      createdAt: now,
    },
  },
  organization: { id: "org_abc", name: "Acme Inc" },
});

// The floor: what Optare's documentation does by hand, with node:crypto and nothing else.
function rawVerify(body, signature) {
  const digest = createHmac("sha256", secret).update(body).digest("hex");
  return signature.length === digest.length && timingSafeEqual(Buffer.from(signature), Buffer.from(digest));
}

const results = {};
for (const [label, body] of [
  [`~${small.length} B body`, small],
  [`~${(large.length / 1024).toFixed(0)} KiB body`, large],
]) {
  const signature = sign(body, secret);
  const stripeHeader = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
  if (!rawVerify(body, signature) || !verifySignature(body, signature, secret)) throw new Error("bad setup");
  constructEvent(body, signature, secret);
  stripe.webhooks.constructEvent(body, stripeHeader, secret);
  const standardHeaders = {
    "webhook-id": "msg_1",
    "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
  };
  standardHeaders["webhook-signature"] = standard.sign("msg_1", new Date(), body);
  standard.verify(body, standardHeaders);

  results[`verify ${label}`] = await compare(`verifySignature, ${label}`, [
    { name: "raw createHmac + timingSafeEqual", fn: () => rawVerify(body, signature), baseline: true },
    { name: "verifySignature", fn: () => verifySignature(body, signature, secret) },
  ]);
  results[`construct ${label}`] = await compare(`constructEvent, ${label}`, [
    {
      name: "stripe constructEvent (verify + parse)",
      fn: () => stripe.webhooks.constructEvent(body, stripeHeader, secret),
      baseline: true,
    },
    { name: "constructEvent (verify + parse + validate)", fn: () => constructEvent(body, signature, secret) },
    { name: "standardwebhooks verify (verify + parse)", fn: () => standard.verify(body, standardHeaders) },
    { name: "raw verify + JSON.parse", fn: () => rawVerify(body, signature) && JSON.parse(body) },
  ]);
}

console.log(
  "\nTargets: verifySignature ≤ 1.10× the raw floor; constructEvent ≤ 1.00× Stripe's constructEvent.",
);
for (const [name, ratios] of Object.entries(results)) {
  const [, ours] = Object.entries(ratios)[1];
  const target = name.startsWith("verify") ? 1.1 : 1.0;
  console.log(`${ours <= target ? "✓" : "✗"} ${name}: ${ours.toFixed(2)}× (target ≤ ${target.toFixed(2)}×)`);
}
