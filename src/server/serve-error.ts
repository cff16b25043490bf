// The error of a server that cannot start (a busy port, a front that is not confined...): a code and a message.
export class ServeError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}
