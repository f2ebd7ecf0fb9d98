// For this repository's own tests (not part of the published build): whether the real Redis or
// PostgreSQL a suite needs answers. Outside CI a missing service skips that suite, loudly; under
// CI=true it is a failure. Imported as `@optare/webhooks-testing/services` through the test aliases.
import { connect } from "node:net";

export const REDIS_URL = "redis://127.0.0.1:6379";
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * Whether something answers at `url` within 1 s: a TCP connect for `postgres:`, a raw `PING` answered
 * `+PONG` (or `-NOAUTH`: it is there) for `redis:`. No client library involved.
 */
export function answers(url: string): Promise<boolean> {
  const { protocol, hostname, port } = new URL(url);
  const redis = protocol === "redis:";
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || (redis ? 6379 : 5432)) });
    const finish = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("connect", () => (redis ? socket.write("PING\r\n") : finish(true)));
    socket.on("data", (data) => finish(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

/**
 * Whether `suite` can run against the service at `url`. When nothing answers: under `CI=true` this
 * throws (the tests must fail), otherwise it warns loudly and the caller skips the suite.
 */
export async function requireService(suite: string, url: string): Promise<boolean> {
  if (await answers(url)) return true;
  const { protocol, host } = new URL(url);
  const name = protocol === "redis:" ? "Redis" : "PostgreSQL";
  const message = `No ${name} answers at ${protocol}//${host}.`;
  if (process.env.CI === "true") throw new Error(`${message} CI=true requires it: start ${name}.`);
  console.warn(
    `\n${"!".repeat(80)}\n!! SKIPPING ${suite}: ${message}\n!! Start it on ${host} to run them.\n${"!".repeat(80)}\n`,
  );
  return false;
}
