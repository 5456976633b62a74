// Errors with stable codes. Native errors arrive as `ERR_CODE: message` and are turned
// into PyflameError here, so callers can branch on `error.code`.

export type ErrorCode =
  | 'ERR_NO_PROCESS'
  | 'ERR_PERMISSION'
  | 'ERR_NOT_PYTHON'
  | 'ERR_UNSUPPORTED_PYTHON'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_READ_FAILED'
  | 'ERR_OUTPUT'
  | 'ERR_NATIVE_BINDING'
  | 'ERR_INTERNAL'
  /** The agent's Pyroscope server refused a profile (4xx) in a way no retry can fix. */
  | 'ERR_SERVER_REJECTED'
  /** The agent's Pyroscope server could not be reached (a warning: the agent keeps going). */
  | 'ERR_SERVER_UNREACHABLE'

export class PyflameError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'PyflameError'
    this.code = code
  }
}

const NATIVE_ERROR = /^(ERR_[A-Z_]+): ([\s\S]*)$/

/** Converts anything thrown by the native core into a PyflameError (others pass through). */
export function fromNative(error: unknown): unknown {
  if (error instanceof PyflameError || !(error instanceof Error)) return error
  const match = NATIVE_ERROR.exec(error.message)
  if (!match) return error
  return new PyflameError(match[1] as ErrorCode, match[2], { cause: error })
}

export function invalidArgument(message: string): PyflameError {
  return new PyflameError('ERR_INVALID_ARGUMENT', message)
}
