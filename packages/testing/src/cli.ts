#!/usr/bin/env node
// The `optare-webhooks` command: trigger a signed event, sign a payload, list the event types, run the
// conformance kit against a running receiver, or open the local inspector (dev, inspect).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { catalog, DEFAULT_MAX_EVENT_AGE, EVENT_TYPES, isEventType, sign } from "@optare/webhooks";
import { checkEndpointUrl, createSender, SenderError } from "@optare/webhooks-sender";
import { DEFAULT_CONFORMANCE_TIMEOUT_MS, runConformance } from "./conformance";
import { type Answer, answerOf, describeAnswer, send } from "./conformance-http";
import { fixtures } from "./fixtures";
import { startCapture } from "./inspector/capture";
import { startDev } from "./inspector/dev";
import { InspectorError } from "./inspector/errors";
import { isListening } from "./inspector/forward";
import { formatConformanceReport, formatProgress } from "./report";
import { loadSentBody, type SentBody, saveSentBody, sentBodiesDirectory } from "./sent-bodies";
import { closest } from "./suggest";

const EXIT_CODES = `Exit status:
  0  success
  1  the receiver failed: a non-2xx answer to trigger, a failed conformance check
  2  usage error: a bad command line, an unreadable --data file, a --port already in use
  3  the receiver could not be checked: no answer (not running, wrong URL, timeout), or it refused a
     validly signed delivery with 401 before any conformance check could run (check --secret)`;

const DEV_PORT = 3900;
const INSPECT_PORT = 3901;

const COMMON = `  --secret <secret>   endpoint secret (default: $OPTARE_WEBHOOK_SECRET)
  --timeout <ms>      per-request timeout (default ${DEFAULT_CONFORMANCE_TIMEOUT_MS})`;

const HELP: Record<string, string> = {
  trigger: `Usage: optare-webhooks trigger <event> --url <url> [options]

Send one signed event to a receiver and print its answer. Every body sent is kept under
${sentBodiesDirectory()} by event id: triggering the same --id again resends those exact
bytes (a true duplicate, which a receiver acknowledges without processing it twice).

Options:
  --url <url>         receiver endpoint (https:, or http: on localhost)
${COMMON}
  --data <file.json>  the event's data (default: the fixture for <event>)
  --id <evt_…>        event id (default: a fresh one). An id sent before resends its stored body.
  --timestamp <iso>   event time (default: now)
  --fresh             build a new body even when --id was sent before (same id, other body: a
                      receiver answers 422)

${EXIT_CODES}

Examples:
  optare-webhooks trigger user.created --url http://localhost:3000/webhooks/optare --secret "$SECRET"
  optare-webhooks trigger user.created --id evt_dup_1 --url …   # run twice: 200, then 200 duplicate
  optare-webhooks trigger billing.invoice.paid --data invoice.json --url …
`,
  sign: `Usage: optare-webhooks sign [--secret <secret>] < payload

Print the X-Optare-Signature (HMAC-SHA256, hex) of the exact bytes on stdin.

Options:
  --secret <secret>   endpoint secret (default: $OPTARE_WEBHOOK_SECRET)

${EXIT_CODES}

Example:
  printf '%s' 'Hello, World!' | optare-webhooks sign --secret "It's a Secret to Everybody"
`,
  conformance: `Usage: optare-webhooks conformance --url <url> [options]

Check a running receiver against the Optare webhook contract: every observable row of the
receiver decision table (405, 401, 400, 413, 422, duplicates, unknown types, error bodies).
One progress line per check goes to stderr; the report to stdout. A failure names the row it breaks.
The rows only a receiver's own handlers can show (a handler failure and its retry, 409 while
processing, the ack deadline) need cooperative mode: runConformance({ cooperative }) in a test.

Options:
  --url <url>         receiver endpoint (https:, or http: on localhost)
${COMMON}
  --json              print the report as JSON

${EXIT_CODES}

Example:
  optare-webhooks conformance --url http://localhost:3000/webhooks/optare --secret "$SECRET"
`,
  dev: `Usage: optare-webhooks dev --forward-to <url> [options]

Open the local webhook inspector for the app you are writing: the reference sender, with one endpoint
pointing at --forward-to, and a page on 127.0.0.1 to edit and send any of the ${EVENT_TYPES.length} event types
(validated live against its schema), watch every delivery attempt (status, duration, response body,
signature, next retry), run the retry schedule now, resend, send a true duplicate or a tampered
signature, pause the endpoint, and copy its secret. Retries also run on their real schedule (1, 5, 15,
60 min) while it runs. One line per delivery is printed here too. Stop it with Ctrl+C.

Options:
  --forward-to <url>  your app's receiving URL (https:, or http: on localhost)
  --secret <secret>   endpoint secret (default: $OPTARE_WEBHOOK_SECRET, else a fresh one, printed)
  --port <port>       the page's port on 127.0.0.1 (default ${DEV_PORT}; 0 picks a free one)

${EXIT_CODES}

Example:
  optare-webhooks dev --forward-to http://localhost:3000/webhooks/optare --secret "$SECRET"
`,
  inspect: `Usage: optare-webhooks inspect --secret <secret> [options]

Capture mode, an offline webhook.site: a receiving URL on 127.0.0.1 that records every request and shows
it on a page with its headers, raw body, signature verdict (valid, wrong secret, re-serialised body,
stale or future timestamp, missing) and field-level schema errors. With --forward-to, each request is
forwarded byte for byte (same body, Content-Type and X-Optare-Signature) and the app's answer is shown
and relayed to the sender. One line per request is printed here too. Stop it with Ctrl+C.

Options:
  --secret <secret>   the secret to check signatures with (default: $OPTARE_WEBHOOK_SECRET)
  --port <port>       port on 127.0.0.1 (default ${INSPECT_PORT}; 0 picks a free one)
  --forward-to <url>  also forward each request to your app (https:, or http: on localhost)

${EXIT_CODES}

Example:
  optare-webhooks inspect --secret "$SECRET" --forward-to http://localhost:3000/webhooks/optare
`,
  events: `Usage: optare-webhooks events [--json]

List the ${EVENT_TYPES.length} event types this SDK knows, with what each means. Alias: list-events.

Options:
  --json              print the list as a JSON array of type names

${EXIT_CODES}
`,
};

const USAGE = `Usage: optare-webhooks <command> [options]

Commands:
  trigger <event>   Send one signed event to a receiver and print its answer.
  sign              Print the X-Optare-Signature of the bytes on stdin.
  conformance       Check a running receiver against the Optare webhook contract.
  events            List the ${EVENT_TYPES.length} event types (alias: list-events).
  dev               Open the local inspector: send events to your app, watch deliveries and retries.
  inspect           Capture mode: a local receiving URL that shows every request and its signature verdict.

Options:
  -h, --help        Show this help; \`optare-webhooks <command> --help\` for a command's options.
  -v, --version     Print the version.

${EXIT_CODES}

Without installing: npx @optare/webhooks-testing <command> …
`;

const COMMANDS = ["trigger", "sign", "conformance", "events", "list-events", "dev", "inspect", "help"];
const ORGANIZATION = { id: "org_abc", name: "Acme Inc" };

/** A mistake in the command line or its inputs: reported with the usage hint, exit status 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

function write(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

function warn(text: string): void {
  process.stderr.write(`optare-webhooks: ${text}\n`);
}

type Values = Record<string, string | boolean | undefined>;

function parse(command: string, args: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

function required(value: unknown, flag: string, command: string): string {
  if (typeof value !== "string" || value.length === 0) throw new UsageError(`Missing ${flag}.`, command);
  return value;
}

function secretFrom(value: unknown, command: string): string {
  const secret = typeof value === "string" ? value : process.env.OPTARE_WEBHOOK_SECRET;
  return required(secret, "--secret (or OPTARE_WEBHOOK_SECRET)", command);
}

function timeoutFrom(value: unknown, command: string): number {
  if (value === undefined) return DEFAULT_CONFORMANCE_TIMEOUT_MS;
  const ms = Number(value);
  if (!(ms > 0 && Number.isFinite(ms)))
    throw new UsageError("--timeout must be a positive number of ms.", command);
  return ms;
}

function portFrom(value: unknown, fallback: number, command: string): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    throw new UsageError("--port must be an integer from 0 to 65535 (0 picks a free port).", command);
  }
  return port;
}

function noExtra(positionals: string[], command: string): void {
  if (positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals[0]}`, command);
}

async function readData(path: string): Promise<Record<string, unknown>> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`Cannot read --data ${path}: ${(error as Error).message}`, "trigger");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`--data ${path} must hold a JSON object (the event's data).`, "trigger");
  }
  return data as Record<string, unknown>;
}

function dataFor(type: string): Record<string, unknown> {
  if (isEventType(type)) return fixtures[type];
  const guess = closest(type, EVENT_TYPES);
  const hint = guess ? ` Did you mean ${guess}?` : "";
  throw new UsageError(
    `${type} is not one of the ${EVENT_TYPES.length} event types, so there is no fixture for it.${hint} ` +
      "To send an event type outside the catalog, pass its data with --data <file.json>; `optare-webhooks events` lists the types.",
    "trigger",
  );
}

/** Why a stored body cannot be resent for this command line, or null when it can. */
function mismatch(
  stored: SentBody,
  type: string,
  data: Record<string, unknown>,
  timestamp: string | undefined,
) {
  const sent = JSON.parse(stored.body) as { event?: unknown; data?: unknown; timestamp?: unknown };
  if (sent.event !== type) return `it was a ${stored.event} event`;
  if (JSON.stringify(sent.data) !== JSON.stringify(data)) return "its data was different";
  if (timestamp !== undefined && sent.timestamp !== timestamp) return `its timestamp was ${sent.timestamp}`;
  return null;
}

function printAnswer(url: string, type: string, id: string, answer: Answer, durationMs: number): number {
  write(`→ POST ${url}  ${type}  ${id}`);
  if (answer.status === null) {
    write(`← ${describeAnswer(answer)}  (${Math.round(durationMs)} ms)`);
    warn(`no answer from ${url}. Is the app running at ${new URL(url).origin}?`);
    return 3;
  }
  write(`← HTTP ${answer.status}  (${Math.round(durationMs)} ms)`);
  if (answer.body) write(answer.body);
  return answer.status >= 200 && answer.status < 300 ? 0 : 1;
}

async function trigger(args: string[]): Promise<number> {
  const { values, positionals } = parse("trigger", args, {
    url: { type: "string" },
    secret: { type: "string" },
    data: { type: "string" },
    id: { type: "string" },
    timestamp: { type: "string" },
    fresh: { type: "boolean" },
    timeout: { type: "string" },
  });
  if (values.help) return help("trigger");
  const [type, ...extra] = positionals;
  if (type === undefined)
    throw new UsageError("Missing the event type, e.g. `trigger user.created`.", "trigger");
  noExtra(extra, "trigger");
  const url = checkEndpointUrl(required(values.url, "--url", "trigger"), true);
  const secret = secretFrom(values.secret, "trigger");
  const timeoutMs = timeoutFrom(values.timeout, "trigger");
  const timestamp = typeof values.timestamp === "string" ? values.timestamp : undefined;
  if (timestamp !== undefined && Number.isNaN(Date.parse(timestamp))) {
    throw new UsageError(
      `--timestamp ${timestamp} is not an ISO-8601 time, e.g. 2025-11-11T10:30:00Z.`,
      "trigger",
    );
  }
  const data = typeof values.data === "string" ? await readData(values.data) : dataFor(type);
  const id = typeof values.id === "string" ? values.id : undefined;

  const stored = id !== undefined && !values.fresh ? await loadSentBody(id) : undefined;
  if (stored !== undefined) {
    const problem = mismatch(stored, type, data, timestamp);
    if (problem !== null) {
      throw new UsageError(
        `${id} was sent before (${stored.sentAt}) and ${problem}. The same id with another body is a ` +
          "conflict a receiver answers with 422: pass --fresh to send it anyway, or choose another --id.",
        "trigger",
      );
    }
    write(
      `↻ Resending the exact body first sent under ${id} at ${stored.sentAt}: a true duplicate (--fresh builds a new body).`,
    );
    const eventTime = Date.parse((JSON.parse(stored.body) as { timestamp: string }).timestamp);
    if (Date.now() - eventTime > DEFAULT_MAX_EVENT_AGE) {
      warn(
        `the stored event time is more than ${DEFAULT_MAX_EVENT_AGE / 3_600_000} h old, so a receiver refuses it as stale (401); --fresh sends a new one.`,
      );
    }
    const started = performance.now();
    const headers = { "content-type": "application/json", "x-optare-signature": sign(stored.body, secret) };
    const answer = await send(
      globalThis.fetch,
      url,
      { method: "POST", headers, body: stored.body },
      timeoutMs,
    );
    return printAnswer(url, type, id!, answer, performance.now() - started);
  }

  const sender = createSender({ allowInsecure: true, maxAttempts: 1, timeoutMs });
  try {
    await sender.createWebhook(ORGANIZATION.id, url, [type], { secret });
    const { event, body, deliveries } = await sender.emit(type, data, ORGANIZATION, { id, timestamp });
    await saveSentBody({ id: event.id, event: type, body, sentAt: new Date().toISOString() }).catch(
      (error: unknown) => {
        warn(`could not keep the body for a later resend: ${(error as Error).message}`);
      },
    );
    const delivery = deliveries[0]!;
    const answer = answerOf(delivery);
    return printAnswer(delivery.url, event.event, event.id, answer, delivery.durationMs);
  } finally {
    await sender.close();
  }
}

async function signStdin(args: string[]): Promise<number> {
  const { values, positionals } = parse("sign", args, { secret: { type: "string" } });
  if (values.help) return help("sign");
  noExtra(positionals, "sign");
  const secret = secretFrom(values.secret, "sign");
  if (process.stdin.isTTY) throw new UsageError("Pipe the payload to sign on stdin.", "sign");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  write(sign(Buffer.concat(chunks), secret));
  return 0;
}

async function conformance(args: string[]): Promise<number> {
  const { values, positionals } = parse("conformance", args, {
    url: { type: "string" },
    secret: { type: "string" },
    json: { type: "boolean" },
    timeout: { type: "string" },
  });
  if (values.help) return help("conformance");
  noExtra(positionals, "conformance");
  const url = checkEndpointUrl(required(values.url, "--url", "conformance"), true);
  const secret = secretFrom(values.secret, "conformance");
  const timeoutMs = timeoutFrom(values.timeout, "conformance");
  const report = await runConformance({
    url,
    secret,
    timeoutMs,
    onCheck: (check, progress) => process.stderr.write(`${formatProgress(check, progress)}\n`),
  });
  write(values.json ? JSON.stringify(report, null, 2) : formatConformanceReport(report));
  if (report.stopped === undefined) return report.passed ? 0 : 1;
  const fix =
    report.stopped.reason === "secret"
      ? " Check --secret (or OPTARE_WEBHOOK_SECRET): it must be the secret the receiver verifies with."
      : report.stopped.reason === "unreachable"
        ? " Start the app, or check --url (and --timeout for a slow first request)."
        : " Check --url.";
  warn(`stopped after the first request. ${report.stopped.message}${fix}`);
  return 3;
}

/** Runs until Ctrl+C (SIGINT) or SIGTERM, then closes `close` and exits 0. */
function untilStopped(close: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop).off("SIGTERM", stop);
      write("Stopping.");
      close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on("SIGINT", stop).on("SIGTERM", stop);
  });
}

async function warnIfDown(url: string): Promise<void> {
  if (!(await isListening(url))) {
    warn(
      `nothing answers at ${new URL(url).host} yet (forward target down): start your app; until then each attempt fails.`,
    );
  }
}

async function dev(args: string[]): Promise<number> {
  const { values, positionals } = parse("dev", args, {
    "forward-to": { type: "string" },
    secret: { type: "string" },
    port: { type: "string" },
  });
  if (values.help) return help("dev");
  noExtra(positionals, "dev");
  const forwardTo = checkEndpointUrl(required(values["forward-to"], "--forward-to", "dev"), true);
  const given = typeof values.secret === "string" ? values.secret : process.env.OPTARE_WEBHOOK_SECRET;
  const secret = given || randomBytes(32).toString("hex");
  const port = portFrom(values.port, DEV_PORT, "dev");
  const running = await startDev({ forwardTo, secret, port, log: write });
  write(`Optare webhook inspector: open ${running.url}`);
  write(`Sending to ${forwardTo} (every event type). Ctrl+C stops.`);
  if (!given) write(`Generated endpoint secret; start your app with OPTARE_WEBHOOK_SECRET=${secret}`);
  await warnIfDown(forwardTo);
  return untilStopped(running.close);
}

async function inspect(args: string[]): Promise<number> {
  const { values, positionals } = parse("inspect", args, {
    "forward-to": { type: "string" },
    secret: { type: "string" },
    port: { type: "string" },
  });
  if (values.help) return help("inspect");
  noExtra(positionals, "inspect");
  const secret = secretFrom(values.secret, "inspect");
  const forwardTo =
    typeof values["forward-to"] === "string" ? checkEndpointUrl(values["forward-to"], true) : undefined;
  const port = portFrom(values.port, INSPECT_PORT, "inspect");
  const running = await startCapture({ secret, forwardTo, port, log: write });
  write(`Optare webhook inspector (capture): open ${running.url}`);
  write(
    `Receiving at ${running.receiveUrl}${forwardTo ? `, forwarding to ${forwardTo}` : ""}. Ctrl+C stops.`,
  );
  if (forwardTo) await warnIfDown(forwardTo);
  return untilStopped(running.close);
}

function events(args: string[]): number {
  const { values, positionals } = parse("events", args, { json: { type: "boolean" } });
  if (values.help) return help("events");
  noExtra(positionals, "events");
  if (values.json) {
    write(JSON.stringify(EVENT_TYPES));
    return 0;
  }
  const width = Math.max(...EVENT_TYPES.map((type) => type.length));
  const lines = EVENT_TYPES.map((type) => {
    const { description, published } = catalog[type];
    const note = published ? "" : " (counterpart added by the SDK, not on Optare's published list)";
    return `${type.padEnd(width)}  ${description}${note}`;
  });
  write(lines.join("\n"));
  return 0;
}

function version(): number {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  write(manifest.version);
  return 0;
}

function help(command?: string): number {
  write((command !== undefined && HELP[command]) || USAGE);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case "trigger":
        return await trigger(args);
      case "sign":
        return await signStdin(args);
      case "conformance":
        return await conformance(args);
      case "events":
      case "list-events":
        return events(args);
      case "dev":
        return await dev(args);
      case "inspect":
        return await inspect(args);
      case "-h":
      case "--help":
        return help();
      case "help":
        return help(args[0] === "list-events" ? "events" : args[0]);
      case "-v":
      case "--version":
        return version();
      case undefined:
        throw new UsageError("Missing a command.");
      default: {
        const guess = closest(command, COMMANDS);
        throw new UsageError(`Unknown command: ${command}.${guess ? ` Did you mean ${guess}?` : ""}`);
      }
    }
  } catch (error) {
    if (error instanceof UsageError || SenderError.is(error)) {
      const where = error instanceof UsageError && error.command ? ` ${error.command}` : "";
      process.stderr.write(
        `optare-webhooks: ${error.message}\nRun \`optare-webhooks${where} --help\` for usage.\n`,
      );
      return 2;
    }
    if (error instanceof InspectorError) {
      process.stderr.write(`optare-webhooks ${command}: ${error.message} (${error.code})\n`);
      return 2;
    }
    throw error;
  }
}

// `optare-webhooks events | head`: a reader that stops early is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `optare-webhooks: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`,
    );
    process.exitCode = 1;
  },
);
