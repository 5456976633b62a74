// `pyflame-ts diff before.folded after.folded`: a differential flame graph and a summary of the
// functions whose share of samples changed most.

import { Command, Option } from 'clipanion'
import { invalidArgument } from '../errors'
import type { Output } from '../flamegraph/sink'
import { FlamegraphOptionsCommand } from './render'

export default class DiffCommand extends FlamegraphOptionsCommand {
  static paths = [['diff']]

  static usage = Command.Usage({
    description: 'Compare two profiles: a differential flame graph and the frames whose share changed most',
    details: `
      With \`--html\` (or \`-o\` ending in .html) the interactive report instead: widths from either profile
      (a switch), a legend and the ranked table of changes. In the SVG, widths come from the "after" profile; a frame is red where its share of samples grew and blue
      where it shrank, stronger for bigger changes. \`--negate\` draws the "before" widths instead (so
      frames that disappeared are visible). Process and thread roots (\`process 1234\`, \`thread 5678\`,
      \`pid:1234\`...) differ from run to run and are set aside unless \`--keep-run-labels\` is given.
      A summary of the largest changes in share goes to stdout (to stderr when the SVG goes to stdout):
      each share with its 95 % confidence interval, and whether the change is beyond sampling noise
      (a two-proportion test per frame, Holm's correction over every frame that changed, at the
      \`--alpha\` level). When the profiles hold too few samples to show a change of \`--min-change\`
      percentage points, a warning says how many would be needed.
    `,
    examples: [
      ['Did the change reduce cache_lookup?', '$0 diff before.txt after.txt -o diff.svg'],
      ['Frames that disappeared', '$0 diff before.txt after.txt --negate -o gone.svg'],
      ['Could 1 pp changes be seen at all?', '$0 diff before.txt after.txt --min-change 1 -o diff.svg'],
    ],
  })

  normalize = Option.Boolean('--normalize,-n', false, { description: 'Scale "before" to the "after" total before colouring (difffolded.pl -n)' })
  keepRunLabels = Option.Boolean('--keep-run-labels', false, { description: 'Match stacks with their process/thread roots' })
  top = Option.String('--top', { description: 'Rows in the summary (default 10)' })
  alpha = Option.String('--alpha', { description: 'Chance of calling any unchanged frame significant (family-wise, default 0.01)' })
  minChange = Option.String('--min-change', { description: 'Smallest change in percentage points the profiles should be able to show (default 5)' })
  before = Option.String({ name: 'before' })
  after = Option.String({ name: 'after' })

  async run(): Promise<number> {
    const top = this.top === undefined ? 10 : Number(this.top)
    if (!Number.isInteger(top) || top < 0) throw invalidArgument(`--top takes a whole number, got "${this.top}"`)
    const alpha = this.alpha === undefined ? undefined : Number(this.alpha)
    if (alpha !== undefined && !(alpha > 0 && alpha < 1)) throw invalidArgument(`--alpha takes a probability between 0 and 1 (e.g. 0.01), got ${JSON.stringify(this.alpha)}`)
    const minChange = this.minChange === undefined ? undefined : Number(this.minChange)
    if (minChange !== undefined && !(minChange > 0 && minChange <= 100)) throw invalidArgument(`--min-change takes percentage points between 0 and 100 (e.g. 2), got ${JSON.stringify(this.minChange)}`)
    if (this.before === '-' && this.after === '-') throw invalidArgument('only one of the two profiles can come from stdin (-)')
    const options = { ...this.drawingOptions(), normalize: this.normalize, keepRunLabels: this.keepRunLabels, top, alpha, minChange }
    const reporter = this.invalidLineReporter()
    const { fileSource } = await import('../folded/line-reader')
    const { diffFolded, formatDiffSummary } = await import('../flamegraph/diff')
    if (this.wantsHtml()) {
      const { diffReport } = await import('../report')
      const meta: Array<[string, string]> = [
        ['Before', this.before],
        ['After', this.after],
      ]
      await this.withOutput((output) =>
        diffReport({ sources: [fileSource(this.before, this.context.stdin)] }, { sources: [fileSource(this.after, this.context.stdin)] }, { title: options.title ?? 'Differential profile', meta, keepRunLabels: this.keepRunLabels, skipInvalid: options.skipInvalid }, output, reporter),
      )
      reporter.finish()
      // The ranked summary too, unless stdin was read (it cannot be read twice).
      if (this.before === '-' || this.after === '-') return 0
    }
    const html = this.wantsHtml()
    const draw = (output: Output) => diffFolded({ sources: [fileSource(this.before, this.context.stdin)] }, { sources: [fileSource(this.after, this.context.stdin)] }, options, output, html ? {} : reporter)
    const result = html ? await draw(() => {}) : await this.withOutput(draw)
    if (!html) reporter.finish()
    const toStdout = this.output !== undefined && this.output !== '-'
    ;(toStdout ? this.context.stdout : this.context.stderr).write(formatDiffSummary(result))
    return 0
  }
}
