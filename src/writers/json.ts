// JSON text for profile files. Frame names and paths come from the profiled program, so `<`
// is written as `\u003c`: the file parses the same, and stays inert if a page ever inlines it
// in a <script> block (a name such as `</script><img onerror=…>` cannot close the block).

export function profileJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c')
}
