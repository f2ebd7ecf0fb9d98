// Type helpers for event payloads: exact types for the known fields, and the escape hatch to the extra
// ones. Every object schema in the catalog is a `z.looseObject`, so at runtime a payload keeps the fields
// Optare adds after this SDK version shipped. zod types those as an index signature,
// `[k: string]: unknown`, which also lets a typo (`user.emial`) compile as `unknown`. The SDK's types
// drop that index signature (`Exact`); `withExtras` / `Loose` bring it back where you ask for it.

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

/** `K` unless it is the key type of an index signature (`string`, `number`, `symbol`). */
type DeclaredKey<K> = string extends K ? never : number extends K ? never : symbol extends K ? never : K;

/**
 * `T` with every index signature removed, at every depth (arrays, nullable and optional fields included):
 * only the declared fields remain, so reading a misspelled one is a compile error. Optional and readonly
 * modifiers are kept. `EventData<T>` is `Exact<z.output<…>>` of the event's `data` schema.
 *
 * @example
 * ```ts
 * type Plain = Exact<z.output<typeof mySchema>>; // mySchema = z.looseObject({ … })
 * ```
 */
export type Exact<T> = T extends Primitive
  ? T
  : T extends readonly unknown[]
    ? { [I in keyof T]: Exact<T[I]> }
    : { [K in keyof T as DeclaredKey<K>]: Exact<T[K]> };

/**
 * `T` with every object, at every depth, open to extra fields, each read as `unknown`: the wire view of a
 * payload, where Optare may have added fields this SDK version does not declare. Known fields keep their
 * types. This is what `withExtras` returns.
 */
export type Loose<T> = T extends Primitive
  ? T
  : T extends readonly unknown[]
    ? { [I in keyof T]: Loose<T[I]> }
    : Flatten<{ [K in keyof T]: Loose<T[K]> } & { readonly [key: string]: unknown }>;

/**
 * The escape hatch to the fields Optare sends beyond the ones this SDK version declares. Event types are
 * exact, so `event.data.user.plan` does not compile when `plan` is not in the catalog (that is what makes
 * `event.data.user.emial` an error). The fields are still there at runtime, though: the receiver never
 * strips them. `withExtras(value)` returns `value` itself, typed `Loose<typeof value>`, where every
 * object at every depth also reads any other field as `unknown` (check it before use).
 *
 * It is an identity function: no copy, no validation, nothing done per event unless you call it.
 *
 * @example
 * ```ts
 * webhooks.on("user.created", (event) => {
 *   const plan = withExtras(event).data.user.plan; // unknown: a field Optare added later
 *   if (typeof plan === "string") setPlan(event.data.user.id, plan);
 *   const attempt = withExtras(event).deliveryAttempt; // envelope-level extras too
 * });
 * ```
 */
export function withExtras<T>(value: T): Loose<T> {
  return value as Loose<T>;
}

/** `T` as one object type (an intersection's members merged), same properties and modifiers. Internal. */
export type Flatten<T> = { [K in keyof T]: T[K] };
