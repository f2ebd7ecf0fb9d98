// The `@optare/webhooks/verify` entry: the public signature API only, with no dependencies.
// `./verify` also holds the internal helpers the rest of the core shares; they are not re-exported here.
export {
  type Payload,
  type Secrets,
  SIGNATURE_HEADER,
  sign,
  verifySignature,
  verifySignatureAsync,
} from "./verify";
