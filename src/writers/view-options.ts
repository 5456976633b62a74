// What part of a profile a writer shows, and how frames are labelled. Every writer (folded,
// svg, speedscope, chrometrace, pprof) takes this same object, so a flag means the same thing
// in every format. The filtering itself lives in one place: `selectEntries` in ./view.ts.

export interface ViewOptions {
  /**
   * Pyflame's `--threads`: count every thread's stack in every tick. Off (the default), each
   * tick counts once per process: the stack of the thread holding the GIL, and ticks where no
   * thread held it go to the `(idle)` bucket.
   */
  threads?: boolean
  /** py-spy's `--gil`: keep only samples whose thread held the GIL (matters with `threads`). */
  gil?: boolean
  /**
   * Pyflame's `-x/--exclude-idle`: drop the `(idle)` bucket; with `threads`, also drop the
   * stacks of threads the kernel did not report as running (unless `idle` is set).
   */
  excludeIdle?: boolean
  /** py-spy's `--idle`: with `threads`, keep idle threads' stacks even under `excludeIdle`. */
  idle?: boolean
  /** Show line numbers in labels (default true); Pyflame's `-n/--no-line-numbers` sets false. */
  lineNumbers?: boolean
  /** Show filenames as the target has them (`co_filename`); writers never shorten them today. */
  fullFilenames?: boolean
  /**
   * py-spy's `--function`: aggregate by function instead of by line: every line of a function
   * is one frame, labelled with the line the function starts on.
   */
  function?: boolean
}
