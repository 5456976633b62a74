// The interactive HTML report (`-o report.html`, `render --html`, `diff --html`, `toHtml()`).

export { renderReport, diffReport, reportHtml } from './html'
export type { ReportOptions, ReportSummary } from './html'
export { shareStandardError } from './data'
export type { ReportData, ErrorKind } from './data'
