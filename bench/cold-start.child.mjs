// One cold start, in a fresh process: import the receiver, register a handler, and handle the first
// signed, fully processed event. Prints the milliseconds from this module's first line to the handled
// event, then to the end of the import (Node's own bootstrap, the same for both, is left out). Run by
// cold-start.bench.mjs.
const start = performance.now();
const [which, secret, body, signature] = process.argv.slice(2);
let handled = 0;
let imported = 0;

if (which === "optare") {
  const { createWebhooks } = await import("@optare/webhooks");
  imported = performance.now();
  const webhooks = createWebhooks({ secret, logger: false });
  webhooks.on("user.created", (event) => {
    handled += event.data.user.email.length > 0 ? 1 : 0;
  });
  const reply = await webhooks.receive({
    method: "POST",
    header: (name) =>
      name === "x-optare-signature" ? signature : name === "content-type" ? "application/json" : null,
    body: Buffer.from(body),
  });
  if (reply.status !== 200) throw new Error(`optare answered ${reply.status}: ${reply.body}`);
} else {
  const { Webhooks } = await import("@octokit/webhooks");
  imported = performance.now();
  const webhooks = new Webhooks({ secret });
  webhooks.on("issues.opened", (event) => {
    handled += event.payload.issue.title.length > 0 ? 1 : 0;
  });
  await webhooks.verifyAndReceive({ id: "delivery-1", name: "issues", payload: body, signature });
}
if (handled !== 1) throw new Error(`${which}: the handler ran ${handled} times`);
process.stdout.write(`${performance.now() - start} ${imported - start}\n`);
