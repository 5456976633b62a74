// The report page's stylesheet (inlined into the HTML file).

export const REPORT_CSS = `
:root{--fg:#1d1f21;--muted:#5a5f66;--line:#d5d8dc;--accent:#1f5fbf;--bg:#fff}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:12px 16px 6px;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0 0 6px}
#meta{display:flex;flex-wrap:wrap;gap:4px 18px;margin:0;font-size:13px}
#meta div{display:flex;gap:6px}#meta dt{color:var(--muted)}#meta dd{margin:0;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
#errors{font-size:13px;margin-top:4px;color:#8a1f11}#errors:empty{display:none}
.error-kind{display:inline-block;margin-right:12px;padding:0 6px;border-radius:3px;background:#fbe9e7}
#pruned{font-size:12px;color:var(--muted);margin-top:4px}#pruned:empty{display:none}
nav{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;align-items:center;gap:8px;padding:8px 16px;background:#f6f7f9;border-bottom:1px solid var(--line)}
nav button{font:inherit;padding:5px 12px;border:1px solid var(--line);border-radius:4px;background:#fff;color:var(--fg);cursor:pointer}
nav button.active{background:var(--accent);border-color:var(--accent);color:#fff}
nav button:hover{border-color:var(--accent)}
.search{display:flex;align-items:center;gap:6px;margin-left:auto}
#search{font:inherit;width:260px;padding:5px 8px;border:2px solid var(--accent);border-radius:4px}
#search.invalid{border-color:#c62828;background:#ffebee}
#matched{font-weight:600;min-width:110px}
#diff-controls{display:flex;gap:10px;align-items:center;font-size:13px}
#legend{display:flex;gap:14px;align-items:center;font-size:13px;padding:6px 16px}
.swatch{display:inline-block;width:28px;height:12px;border:1px solid #999;vertical-align:middle;margin-right:4px}
main{padding:8px 16px 24px}
canvas{display:block;width:100%}
#details{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;min-height:1.5em;padding:4px 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table{border-collapse:collapse;width:100%;font-size:13px}
th{position:sticky;top:46px;background:#eef1f5;text-align:right;padding:5px 8px;cursor:pointer;user-select:none;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
td{padding:3px 8px;border-bottom:1px solid #eceef1;text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
td:first-child{max-width:60vw;overflow:hidden;text-overflow:ellipsis}
tr:hover td{background:#f3f6fb;cursor:pointer}tr.selected td{background:#dde8f8}
td.grew{color:#b71c1c}td.shrank{color:#0d47a1}
#table-note,.note{color:var(--muted);font-size:12px;margin:6px 0}
h2{font-size:15px;margin:12px 0 4px}
.neighbours{font-size:13px;margin:2px 0 6px}.neighbour{display:inline-block;margin:0 10px 2px 0;padding:0 6px;border-radius:3px;background:#eef1f5;font-family:ui-monospace,Menlo,Consolas,monospace;cursor:pointer}
#sandwich-name{font-family:ui-monospace,Menlo,Consolas,monospace}
`
