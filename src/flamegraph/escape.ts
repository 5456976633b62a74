// Escaping for text that comes from the profiled program or the user. Everything is escaped
// for XML; characters XML 1.0 forbids (C0 controls but tab, lone surrogates, U+FFFE/FFFF) and
// DEL become U+FFFD, so the file always parses. No target or user string is ever written into
// the script: the script reads names from the DOM and settings from attributes.

const XML_SPECIAL = /[&<>"']|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\n\r]/g

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\n': ' ', '\r': ' ' }

function replace(char: string): string {
  return ENTITIES[char] ?? '\ufffd'
}

/** Escapes text for element content and attribute values (quotes included). */
export function escapeXml(text: string): string {
  XML_SPECIAL.lastIndex = 0
  return XML_SPECIAL.test(text) ? text.replace(XML_SPECIAL, replace) : text
}

/** Text for an XML comment: no `--`, no trailing `-`, no forbidden characters. */
export function escapeComment(text: string): string {
  return escapeXml(text).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/-(?=-)/g, '- ').replace(/-$/, '- ')
}
