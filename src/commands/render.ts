// `pyflame-ts render`: folded stacks (Pyflame, py-spy raw, flamegraph.pl input, austin) in,
// interactive SVG flame graph out. Options keep flamegraph.pl's names.

import { Command, Option } from 'clipanion'
import { PyflameCommand } from './base'
import { invalidArgument } from '../errors'
import { PALETTES, type FlamegraphOptions, type Palette } from '../flamegraph/options'
import type { Output } from '../flamegraph/sink'
import { AtomicFile } from '../output'

function numberOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const number = Number(value)
  if (!Number.isFinite(number) || number <= 0) throw invalidArgument(`${flag} takes a positive number, got "${value}"`)
  return number
}

/** The drawing options shared by `render` and `diff`. */
export abstract class FlamegraphOptionsCommand extends PyflameCommand {
  output = Option.String('-o,--output', { description: 'SVG file to write (default: stdout)' })
  title = Option.String('--title', { description: 'Title text (default "Flame Graph")' })
  subtitle = Option.String('--subtitle', { description: 'Second-level title' })
  width = Option.String('--width', { description: 'Image width in pixels (default: fluid, fills the window)' })
  height = Option.String('--height', { description: 'Height of each frame row in pixels (default 16)' })
  minWidth = Option.String('--minwidth', { description: 'Leave out frames narrower than this: pixels (0.1) or a percentage ("0.01%"); their samples stay in the parent' })
  fontType = Option.String('--fonttype', { description: 'Font family (default monospace)' })
  fontSize = Option.String('--fontsize', { description: 'Font size (default 12)' })
  fontWidth = Option.String('--fontwidth', { description: 'Average glyph width relative to the font size (default 0.6)' })
  countName = Option.String('--countname', { description: 'Count type label (default "samples")' })
  nameType = Option.String('--nametype', { description: 'Name type label (default "Function:")' })
  colors = Option.String('--colors,--colours', { description: `Palette: ${PALETTES.join(', ')} (default python)` })
  hash = Option.Boolean('--hash', false, { description: 'Colour by a weighted hash of the name (similar names, similar colours)' })
  reverse = Option.Boolean('--reverse', false, { description: 'Reverse each stack before merging' })
  inverted = Option.Boolean('--inverted', false, { description: 'Icicle graph (root at the top)' })
  flamechart = Option.Boolean('--flamechart', false, { description: 'Flame chart: keep input (time) order, merge only adjacent stacks' })
  notes = Option.String('--notes', { description: 'Notes stored in the SVG' })
  negate = Option.Boolean('--negate', false, { description: 'Differential: swap the colours (and, for diff, draw the "before" widths)' })
  skipInvalid = Option.Boolean('--skip-invalid', false, { description: 'Skip malformed lines with a warning instead of failing' })
  html = Option.Boolean('--html', false, { description: 'Write the interactive HTML report (flame graph, icicle, function table, sandwich) instead of an SVG; the default for an -o ending in .html' })

  /** The HTML report was asked for, by flag or by the output's extension. */
  protected wantsHtml(): boolean {
    return this.html || /\.html?$/i.test(this.output ?? '')
  }

  protected drawingOptions(): FlamegraphOptions {
    if (this.colors !== undefined && !(PALETTES as readonly string[]).includes(this.colors)) {
      throw invalidArgument(`unknown palette "${this.colors}": use one of ${PALETTES.join(', ')}`)
    }
    return {
      title: this.title,
      subtitle: this.subtitle,
      width: numberOption('--width', this.width),
      frameHeight: numberOption('--height', this.height),
      minWidth: this.minWidth,
      fontType: this.fontType,
      fontSize: numberOption('--fontsize', this.fontSize),
      fontWidth: numberOption('--fontwidth', this.fontWidth),
      countName: this.countName,
      nameType: this.nameType,
      colors: this.colors as Palette | undefined,
      hash: this.hash,
      reverse: this.reverse,
      inverted: this.inverted,
      flamechart: this.flamechart,
      notes: this.notes,
      negate: this.negate,
      skipInvalid: this.skipInvalid,
    }
  }

  /** Runs `write` against the output file (atomically) or stdout. */
  protected async withOutput<T>(write: (output: Output) => Promise<T>): Promise<T> {
    if (this.output === undefined || this.output === '-') return write(this.context.stdout)
    const file = new AtomicFile(this.output)
    try {
      const result = await write(file)
      file.commit()
      return result
    } catch (error) {
      file.abort()
      throw error
    }
  }

  /** Collects skipped-line warnings; prints the first few and a count. */
  protected invalidLineReporter(): { onInvalidLine: (where: string, reason: string) => void; finish: () => void } {
    let count = 0
    return {
      onInvalidLine: (where, reason) => {
        if (++count <= 3) this.context.stderr.write(`warning: skipped ${where}: ${reason}\n`)
      },
      finish: () => {
        if (count > 3) this.context.stderr.write(`warning: skipped ${count} malformed lines in all\n`)
      },
    }
  }
}

export default class RenderCommand extends FlamegraphOptionsCommand {
  static paths = [['render']]

  static usage = Command.Usage({
    description: 'Draw an interactive SVG flame graph from folded stacks',
    details: `
      Reads folded stacks (\`frame;frame;frame count\`) from the files given, or stdin with \`-\` or no file:
      Pyflame's \`path:function:line\` labels, py-spy's \`function (path:line)\`, flamegraph.pl input and
      austin output (\`#\` comment lines). Several files merge. Lines of the form \`stack before after\`
      (difffolded.pl) draw a differential graph. Hover a frame for its count, click to zoom,
      Ctrl-F to search with a regular expression.
    `,
    examples: [
      ['Flame graph of a Pyflame profile', '$0 render profile.txt -o profile.svg'],
      ['From stdin, icicle layout', 'cat out.folded | $0 render --inverted > profile.svg'],
      ['Several files, wider minimum width', '$0 render a.txt b.txt --minwidth 0.5% -o all.svg'],
    ],
  })

  files = Option.Rest({ name: 'files' })

  async run(): Promise<number> {
    const options = this.drawingOptions()
    const files = this.files.length > 0 ? this.files : ['-']
    // Loaded here, not at the top: every other command starts faster without the emitter.
    const { fileSource } = await import('../folded/line-reader')
    const { renderFlamegraph } = await import('../flamegraph/render')
    const sources = files.map((file) => fileSource(file, this.context.stdin))
    const reporter = this.invalidLineReporter()
    let stacks: number
    if (this.wantsHtml()) {
      const { renderReport } = await import('../report')
      const meta: Array<[string, string]> = [['Input', files.map((f) => (f === '-' ? '<stdin>' : f)).join(', ')]]
      stacks = (await this.withOutput((output) => renderReport({ sources }, { title: options.title ?? 'Profile', countName: options.countName, meta, skipInvalid: options.skipInvalid }, output, reporter))).stacks
    } else {
      stacks = (await this.withOutput((output) => renderFlamegraph({ sources }, options, output, reporter))).stacks
    }
    reporter.finish()
    if (stacks === 0) this.context.stderr.write('warning: the input held no stacks; the flame graph is empty\n')
    return 0
  }
}
