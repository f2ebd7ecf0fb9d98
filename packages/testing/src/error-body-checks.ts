// The error-body checks (SPEC §3, last paragraph): they run last and inspect every 4xx/5xx answer the
// other checks collected, for the shape {"error":{"code","message"}} and for echoes of what must stay
// secret: the secret, the signature the receiver expected, the payload (a random canary inside it).
import { sign } from "@optare/webhooks";
import { type Answer, describeAnswer, excerpt } from "./conformance-http";
import { type CheckSpec, type Kit, type Outcome, verdict } from "./conformance-kit";
import { ROWS } from "./rows";

const ERROR_SHAPE = '{"error":{"code","message"}}';

function shapeProblem(answer: Answer): string | null {
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return `not JSON: ${excerpt(answer.body, 80) || "(empty)"}`;
  }
  const error = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error !== "object" || error === null)
    return `without an "error" object: ${excerpt(answer.body, 80)}`;
  if (typeof error.code !== "string" || error.code === "")
    return `without a string error.code: ${excerpt(answer.body, 80)}`;
  if (typeof error.message !== "string") return `without a string error.message: ${excerpt(answer.body, 80)}`;
  return null;
}

function echoIn(kit: Kit, answer: Answer, sentBody: string): string | null {
  const text = [answer.body, ...Object.values(answer.headers)].join("\n");
  // A short secret could occur by chance ("secret" in "signature_secret"); 8 characters hardly can.
  if (kit.secret.length >= 8 && text.includes(kit.secret)) return "the secret";
  if (sentBody !== "" && text.toLowerCase().includes(sign(sentBody, kit.secret)))
    return "the expected signature";
  if (text.includes(kit.canary)) return "the payload";
  return null;
}

const nothingToInspect = (): Outcome =>
  verdict(
    false,
    "no error answer",
    "No request was answered with an error, so there was no error body to check.",
  );

export function errorBodyChecks(): CheckSpec[] {
  return [
    {
      name: `error bodies are ${ERROR_SHAPE}`,
      row: ROWS.errorBody,
      expected: ERROR_SHAPE,
      async run(kit) {
        if (kit.errorAnswers.length === 0) return nothingToInspect();
        const bad = kit.errorAnswers.flatMap((entry) => {
          const problem = shapeProblem(entry.answer);
          return problem === null ? [] : [{ ...entry, problem }];
        });
        const first = bad[0];
        const total = kit.errorAnswers.length;
        if (first === undefined)
          return verdict(true, ERROR_SHAPE, `All ${total} error answers have that shape.`);
        const others = [...new Set(bad.slice(1).map(({ check }) => `"${check}"`))].slice(0, 3).join(", ");
        return verdict(
          false,
          `${bad.length} of ${total} error bodies otherwise`,
          `The ${describeAnswer(first.answer)} to "${first.check}" is ${first.problem}.` +
            (others ? ` So are the answers to ${others}${bad.length > 4 ? "…" : ""}.` : ""),
        );
      },
    },
    {
      name: "error answers never echo the secret, the expected signature or the payload",
      row: ROWS.errorBody,
      expected: "no echo",
      async run(kit) {
        if (kit.errorAnswers.length === 0) return nothingToInspect();
        for (const { check, answer, sentBody } of kit.errorAnswers) {
          const what = echoIn(kit, answer, sentBody);
          if (what === null) continue;
          return verdict(
            false,
            `echoed ${what}`,
            `The ${describeAnswer(answer)} to "${check}" contains ${what}: ${excerpt(answer.body)}`,
          );
        }
        return verdict(
          true,
          "no echo",
          `No error answer (body or header) echoes the secret, a signature or a payload.`,
        );
      },
    },
  ];
}
