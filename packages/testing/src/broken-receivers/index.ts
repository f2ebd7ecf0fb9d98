// Deliberately broken receivers (test support): each is the hand-written receiver with one real-world
// mistake, and broken-receivers.test.ts asserts the conformance kit fails it on the row it breaks.
import { acceptsBadSignatures } from "./accepts-bad-signatures";
import { acknowledgesBeforeHandlersFinish } from "./acknowledges-before-handlers-finish";
import { answers2xxWhileProcessing } from "./answers-2xx-while-processing";
import { answersEveryMethod } from "./answers-every-method";
import { comparesSignaturesUnsafely } from "./compares-signatures-unsafely";
import { crashesOnMalformedJson } from "./crashes-on-malformed-json";
import { dedupesOnIdOnly } from "./dedupes-on-id-only";
import { echoesPayloadInErrors } from "./echoes-payload-in-errors";
import { failsUnknownEvents } from "./fails-unknown-events";
import type { BrokenReceiver } from "./hand-written";
import { ignoresEventAge } from "./ignores-event-age";
import { neverDeduplicates } from "./never-deduplicates";
import { onlyChecksStaleness } from "./only-checks-staleness";
import { plainTextErrors } from "./plain-text-errors";
import { reserialisesBeforeVerifying } from "./reserialises-before-verifying";
import { skipsSchemaValidation } from "./skips-schema-validation";
import { swallowsHandlerErrors } from "./swallows-handler-errors";
import { trustsContentLength } from "./trusts-content-length";
import { waitsForHandlersWithoutDeadline } from "./waits-for-handlers-without-deadline";

export { type BrokenReceiver, serveHandWritten } from "./hand-written";

export const BROKEN_RECEIVERS: readonly BrokenReceiver[] = [
  answersEveryMethod,
  trustsContentLength,
  acceptsBadSignatures,
  comparesSignaturesUnsafely,
  reserialisesBeforeVerifying,
  ignoresEventAge,
  onlyChecksStaleness,
  crashesOnMalformedJson,
  skipsSchemaValidation,
  failsUnknownEvents,
  swallowsHandlerErrors,
  neverDeduplicates,
  dedupesOnIdOnly,
  answers2xxWhileProcessing,
  acknowledgesBeforeHandlersFinish,
  waitsForHandlersWithoutDeadline,
  echoesPayloadInErrors,
  plainTextErrors,
];
