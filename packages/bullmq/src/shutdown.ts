// Graceful shutdown on SIGTERM / SIGINT: stop taking jobs, let the running ones finish (bounded), exit.
import type { Logger } from "@optare/webhooks";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/**
 * On the first SIGTERM or SIGINT, runs `close` and exits 0 once it resolves, or 1 when it is still running
 * after `timeoutMs` (or fails). A second signal gets Node's default: the process dies at once. Returns a
 * function that stops listening.
 */
export function exitOnSignals(
  close: () => Promise<void>,
  { timeoutMs, logger }: { timeoutMs: number; logger: Logger | undefined },
): () => void {
  function onSignal(signal: NodeJS.Signals): void {
    const timer = setTimeout(() => {
      logger?.error(
        { signal, shutdownTimeoutMs: timeoutMs },
        `Jobs still running ${timeoutMs} ms after ${signal}: exiting anyway. Another worker runs them ` +
          "again once their locks expire (stalledIntervalMs).",
      );
      process.exit(1);
    }, timeoutMs);
    close().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (error: unknown) => {
        logger?.error({ signal, err: error }, `Queue worker failed to close after ${signal}.`);
        process.exit(1);
      },
    );
  }
  for (const signal of SIGNALS) process.once(signal, onSignal);
  return () => {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  };
}
