// Shared helpers for the flame graph tests: render to a string, run the render/diff commands
// in-process through clipanion, and read frames back out of an SVG.

import { Cli } from 'clipanion'
import { PassThrough } from 'node:stream'
import DiffCommand from '../../src/commands/diff'
import RenderCommand from '../../src/commands/render'
import { renderFlamegraph, type FlamegraphInput, type RenderSummary } from '../../src/flamegraph/render'
import type { FlamegraphOptions } from '../../src/flamegraph/options'

export async function renderToString(input: FlamegraphInput, options: FlamegraphOptions = {}): Promise<{ svg: string; summary: RenderSummary }> {
  let svg = ''
  const summary = await renderFlamegraph(input, options, (chunk) => (svg += chunk))
  return { svg, summary }
}

export interface Frame {
  name: string
  /** The count as written in the title (commas removed). */
  count: string
  depth: number
  x: number
  w: number
  fill: string
  text: string
}

const XML_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" }

function unescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => XML_ENTITIES[entity])
}

/** Frames of one of our SVGs, from their <title>, <rect> and <text>. */
export function framesOf(svg: string): Frame[] {
  const frames: Frame[] = []
  const pattern = /<g>\s*<title>([^<]*)<\/title>\s*<rect x="[^"]*" y="([\d.]+)" width="[^"]*" height="[^"]*" fill="([^"]*)" fg:x="(\d+)" fg:w="(\d+)"\/>(?:\s*<text [^>]*>([^<]*)<\/text>)?/g
  let rootY: number | undefined
  const frameHeight = Number(/fg:frameheight="([\d.]+)"/.exec(svg)?.[1] ?? 16)
  for (const match of svg.matchAll(pattern)) {
    const title = unescape(match[1])
    const info = /^(.*) \(([\d,.]+) [^,]*, [^)]*\)$/.exec(title)
    if (!info) throw new Error(`unexpected title ${title}`)
    const y = Number(match[2])
    rootY ??= y
    frames.push({ name: info[1], count: info[2].replace(/,/g, ''), depth: Math.round(Math.abs(rootY - y) / frameHeight), x: Number(match[4]), w: Number(match[5]), fill: match[3], text: unescape(match[6] ?? '') })
  }
  return frames
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs `pyflame-ts <args>` with the render and diff commands registered, in this process. */
export async function runCommand(args: string[], stdin = ''): Promise<CliRun> {
  const cli = new Cli({ binaryName: 'pyflame-ts' })
  cli.register(RenderCommand)
  cli.register(DiffCommand)
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const input = new PassThrough()
  input.end(stdin)
  let out = ''
  let err = ''
  stdout.on('data', (chunk) => (out += chunk))
  stderr.on('data', (chunk) => (err += chunk))
  const code = await cli.run(args, { stdin: input, stdout, stderr } as never)
  return { code, stdout: out, stderr: err }
}
