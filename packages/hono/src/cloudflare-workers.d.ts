// The one Workers-only import of test-worker.ts, typed here rather than with @cloudflare/workers-types.
declare module "cloudflare:workers" {
  /** The Worker's bindings, importable at module scope (text bindings are strings). */
  export const env: Record<string, string | undefined>;
}
