#!/usr/bin/env node
// The `optare-webhooks` command: trigger a signed event, sign a payload, or run the conformance kit.
import { readFile } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { isEventType, sign } from "@optare/webhooks";
import { createSender, SenderError } from "@optare/webhooks-sender";
import { type ConformanceCheck, type ConformanceReport, runConformance } from "./conformance";
import { fixtures } from "./fixtures";

const USAGE = `Usage: optare-webhooks <command> [options]

Commands:
  trigger <event>   Send one signed event to a receiver and print its answer.
                    --url <url>         receiver endpoint (https:, or http: on localhost)
                    --secret <secret>   endpoint secret (default: $OPTARE_WEBHOOK_SECRET)
                    --data <file.json>  the event's data (default: the fixture for <event>)
                    --id <evt_…>        event id (default: a fresh one; reuse it to send a duplicate)
  sign              Print the X-Optare-Signature of the bytes on stdin.
                    --secret <secret>   (default: $OPTARE_WEBHOOK_SECRET)
  conformance       Check a receiver against the Optare webhook contract.
                    --url <url> --secret <secret>
                    --json              print the report as JSON
                    --timeout <ms>      per-request timeout (default 30000)

Options:
  -h, --help        Show this help.

Exit status: 0 on success, 1 when the receiver fails (non-2xx, failed check), 2 on a usage error.

Examples:
  optare-webhooks trigger user.created --url http://localhost:3000/webhooks/optare --secret "$SECRET"
  printf '%s' '{"hello":"world"}' | optare-webhooks sign --secret "$SECRET"
  optare-webhooks conformance --url http://localhost:3000/webhooks/optare --secret "$SECRET"
`;

const ORGANIZATION = { id: "org_abc", name: "Acme Inc" };

/** A mistake in the command line or its inputs: reported with the usage hint, exit status 2. */
class UsageError extends Error {}

function write(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(value: unknown, flag: string): string {
  if (typeof value !== "string" || value.length === 0) throw new UsageError(`Missing ${flag}.`);
  return value;
}

function secretFrom(value: unknown): string {
  const secret = typeof value === "string" ? value : process.env.OPTARE_WEBHOOK_SECRET;
  return required(secret, "--secret (or OPTARE_WEBHOOK_SECRET)");
}

async function readData(path: string): Promise<Record<string, unknown>> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`Cannot read --data ${path}: ${(error as Error).message}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new UsageError(`--data ${path} must hold a JSON object (the event's data).`);
  }
  return data as Record<string, unknown>;
}

async function trigger(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    url: { type: "string" },
    secret: { type: "string" },
    data: { type: "string" },
    id: { type: "string" },
  });
  if (values.help) return help();
  const [type, ...extra] = positionals;
  if (type === undefined) throw new UsageError("Missing the event type, e.g. `trigger user.created`.");
  if (extra.length > 0) throw new UsageError(`Unexpected argument: ${extra[0]}`);
  const url = required(values.url, "--url");
  const secret = secretFrom(values.secret);
  let data: Record<string, unknown>;
  if (typeof values.data === "string") data = await readData(values.data);
  else if (isEventType(type)) data = fixtures[type];
  else
    throw new UsageError(`${type} is not a catalog event, so there is no fixture: pass --data <file.json>.`);

  const sender = createSender({ allowInsecure: true, maxAttempts: 1 });
  try {
    await sender.createWebhook(ORGANIZATION.id, url, [type], { secret });
    const id = typeof values.id === "string" ? values.id : undefined;
    const { event, deliveries } = await sender.emit(type, data, ORGANIZATION, { id });
    const delivery = deliveries[0]!;
    write(`→ POST ${delivery.url}  ${event.event}  ${event.id}`);
    const outcome = delivery.statusCode === null ? delivery.error : `HTTP ${delivery.statusCode}`;
    write(`← ${outcome}  (${Math.round(delivery.durationMs)} ms)`);
    if (delivery.responseBody) write(delivery.responseBody);
    return delivery.success ? 0 : 1;
  } finally {
    await sender.close();
  }
}

async function signStdin(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { secret: { type: "string" } });
  if (values.help) return help();
  if (positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals[0]}`);
  const secret = secretFrom(values.secret);
  if (process.stdin.isTTY) throw new UsageError("Pipe the payload to sign on stdin.");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  write(sign(Buffer.concat(chunks), secret));
  return 0;
}

function formatTable(report: ConformanceReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = [`Conformance of ${report.url}`, ""];
  for (const check of report.checks) {
    const verdict = check.passed ? "PASS" : "FAIL";
    lines.push(
      `${verdict}  ${check.name.padEnd(width)}  expected ${check.expected.padEnd(4)} got ${check.actual}`,
    );
  }
  const failed = report.checks.filter((check) => !check.passed);
  if (failed.length > 0) {
    lines.push("", "Failures:");
    for (const check of failed) lines.push(`- ${check.name}: ${check.detail}`);
  }
  const passed = report.checks.length - failed.length;
  lines.push("", `${report.checks.length} checks: ${passed} passed, ${failed.length} failed.`);
  return lines.join("\n");
}

async function conformance(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    url: { type: "string" },
    secret: { type: "string" },
    json: { type: "boolean" },
    timeout: { type: "string" },
  });
  if (values.help) return help();
  if (positionals.length > 0) throw new UsageError(`Unexpected argument: ${positionals[0]}`);
  const url = required(values.url, "--url");
  const secret = secretFrom(values.secret);
  const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    throw new UsageError("--timeout must be a positive number of ms.");
  const progress = values.json
    ? undefined
    : (check: ConformanceCheck) => process.stderr.write(check.passed ? "." : "F");
  const report = await runConformance({ url, secret, timeoutMs, onCheck: progress });
  if (progress) process.stderr.write("\n");
  write(values.json ? JSON.stringify(report, null, 2) : formatTable(report));
  return report.passed ? 0 : 1;
}

function help(): number {
  write(USAGE);
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
      case "-h":
      case "--help":
      case "help":
        return help();
      case undefined:
        throw new UsageError("Missing a command.");
      default:
        throw new UsageError(`Unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError || SenderError.is(error)) {
      process.stderr.write(`optare-webhooks: ${error.message}\nRun \`optare-webhooks --help\` for usage.\n`);
      return 2;
    }
    throw error;
  }
}

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
