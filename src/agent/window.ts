// A window: what one process did during one drain of the fleet recording, encoded as the
// gzipped pprof Pyroscope ingests (natively: crates/pyflame-node/src/window_pprof.rs), with
// the time it was recorded (not the time it is sent).

export interface Window {
  pid: number
  /** Unix milliseconds when the window started and ended. */
  fromMs: number
  untilMs: number
  /** Ticks in the window (samples of this process). */
  samples: number
  /** The gzipped pprof. */
  body: Buffer
  /** `SERVICE{labels}` for `/ingest?name=`. */
  name: string
}
