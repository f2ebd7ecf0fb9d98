// Event id ↔ BullMQ job id. BullMQ refuses custom job ids that look like integers ("123") and ids
// containing ":" (its key separator); an Optare event id is any non-empty string (in practice `evt_…`,
// which is kept as is). The few ids BullMQ would refuse, and those with a "%", are escaped behind a
// leading "%": "%" → "%25", ":" → "%3A", so the mapping is one-to-one and ids without "%" never change.

const UNSAFE = /[%:]/g;
const ESCAPED = /%(25|3A)/g;

/** Whether BullMQ treats `id` as an integer id (its own test: `${parseInt(id, 10)}` === id). */
function looksLikeInteger(id: string): boolean {
  return `${Number.parseInt(id, 10)}` === id;
}

/** The job id of an event: the event id itself, unless BullMQ would refuse it or it holds a "%". */
export function toJobId(eventId: string): string {
  if (!eventId.includes(":") && !eventId.includes("%") && !looksLikeInteger(eventId)) return eventId;
  return `%${eventId.replace(UNSAFE, (char) => (char === "%" ? "%25" : "%3A"))}`;
}

/** The event id of a job id made by `toJobId`. */
export function toEventId(jobId: string): string {
  if (!jobId.startsWith("%")) return jobId;
  return jobId.slice(1).replace(ESCAPED, (_, code: string) => (code === "25" ? "%" : ":"));
}
