// The inspector's errors as data: a stable `code` and the HTTP status it maps to, in one table. The page
// and the terminal show `code` and `message`; tests assert on `code`.

export const INSPECTOR_ERROR_STATUS = {
  host_not_allowed: 403,
  cross_origin: 403,
  not_found: 404,
  method_not_allowed: 405,
  unsupported_media_type: 415,
  invalid_request: 400,
  invalid_json: 400,
  unknown_event_type: 400,
  unknown_event: 404,
  invalid_payload: 422,
  endpoint_paused: 409,
  payload_too_large: 413,
  too_many_streams: 503,
  forward_unreachable: 502,
  port_in_use: 500,
  listen_failed: 500,
  internal_error: 500,
} as const;

export type InspectorErrorCode = keyof typeof INSPECTOR_ERROR_STATUS;

/** One field a payload breaks: `path` in dotted form ("user.email", "scopes[0]"), `message` for a person. */
export interface FieldError {
  path: string;
  message: string;
}

export class InspectorError extends Error {
  readonly status: number;

  constructor(
    readonly code: InspectorErrorCode,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
    this.status = INSPECTOR_ERROR_STATUS[code];
  }

  /** The JSON error body: `{"error":{"code","message","fields?"}}`, as the receiver's error bodies. */
  toJSON() {
    const fields = this.fields === undefined ? {} : { fields: this.fields };
    return { error: { code: this.code, message: this.message, ...fields } };
  }
}
