// Cooperative mode (SPEC §10): the rows of §3 a black box cannot see — a handler that throws, a duplicate
// while the first is still running, the ack deadline — need the receiver's handler to throw or wait on
// cue. A controller gives the conformance kit that cue, in process and out of band: nothing a request
// carries can turn it on, and it only ever acts on event ids the kit planned through the controller.
import { type CooperativeState, createCooperativeState } from "./cooperative-state";

/**
 * The receiver's side of cooperative mode. Hand it to `runConformance({ url, secret, cooperative })`,
 * from a test running in the same process as the receiver.
 */
export interface CooperativeController {
  /**
   * Call from your handler with every event it processes (`cooperate(webhooks)` registers it as an `onAny`
   * handler for you). It resolves at once, doing nothing, for every event but the ones the conformance
   * kit planned through this controller: for those it throws once, or waits, as the kit asked.
   */
  readonly hook: (event: { id: string }) => Promise<void>;
}

export interface CooperativeControllerOptions {
  /** The longest a planned wait may hold a handler, in ms, should the kit never end it. Default 60,000. */
  maxBlockMs?: number;
}

const states = new WeakMap<CooperativeController, CooperativeState>();

/**
 * A controller for a receiver not built with this SDK's `createWebhooks`: call `controller.hook(event)`
 * at the start of your handler. With `createWebhooks`, use `cooperate(webhooks)`.
 */
export function createCooperativeController(
  options: CooperativeControllerOptions = {},
): CooperativeController {
  const state = createCooperativeState(options.maxBlockMs ?? 60_000);
  const controller: CooperativeController = Object.freeze({
    hook: (event: { id: string }) => state.hook(event),
  });
  states.set(controller, state);
  return controller;
}

/** Anything handlers can be registered on with `onAny`: `createWebhooks()`'s receiver, `createRouter()`. */
export interface OnAny {
  onAny(handler: (event: { id: string }) => unknown): unknown;
}

/**
 * Installs cooperative mode on a receiver built with `createWebhooks()`, from your test code: registers the
 * controller's hook as an `onAny` handler and returns the controller for `runConformance({ cooperative })`.
 * Other events pass through it untouched.
 */
export function cooperate(webhooks: OnAny): CooperativeController {
  const controller = createCooperativeController();
  webhooks.onAny((event) => controller.hook(event));
  return controller;
}

/** The kit's side of a controller. */
export function cooperativeStateOf(controller: unknown): CooperativeState {
  const state = states.get(controller as CooperativeController);
  if (state === undefined) {
    throw new TypeError(
      "runConformance: cooperative must be a controller from cooperate(webhooks) or createCooperativeController().",
    );
  }
  return state;
}
