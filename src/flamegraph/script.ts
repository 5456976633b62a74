// The script embedded in the SVG: hover details, click-to-zoom, regex search with Matched %,
// case toggle, URL state and label fitting. It holds no data from the profile or the user:
// names come from the <title> elements and settings from `fg:` attributes, so nothing in a
// frame name can end the CDATA section or run as code.
//
// Speed on 100k+ frames: the DOM is read once at load into typed arrays; zoom and search
// compute in those arrays and touch only elements whose state changes; labels are fitted by
// character count (glyph width = font size × font width), never by measuring text.

export const FLAMEGRAPH_SCRIPT = String.raw`"use strict";
var svg, frameSvg, details, searchButton, unzoomButton, matchedText, caseButton;
var nameType = "", frameHeight = 16, fontSize = 12, charWidth = 7, total = 1, inverted = false, searchColor = "rgb(230,0,230)";
var groups = [], rects = [], texts = [], names = [], fills = [];
var X, W, D, shownX, shownW, state, labels;
var framesWidth = 1180, nominalWidth = 1180, zoomIndex = -1, searchTerm = null, ignoreCase = false;

function init(evt) {
  svg = document.documentElement.tagName === "svg" ? document.documentElement : evt.target;
  frameSvg = document.getElementById("frames");
  details = document.getElementById("details").firstChild;
  searchButton = document.getElementById("search");
  unzoomButton = document.getElementById("unzoom");
  matchedText = document.getElementById("matched");
  caseButton = document.getElementById("ignorecase");
  nameType = svg.getAttribute("fg:nametype") || "";
  frameHeight = Number(svg.getAttribute("fg:frameheight")) || 16;
  fontSize = Number(svg.getAttribute("fg:fontsize")) || 12;
  charWidth = fontSize * (Number(svg.getAttribute("fg:fontwidth")) || 0.6);
  inverted = svg.getAttribute("fg:inverted") === "true";
  total = Number(frameSvg.getAttribute("fg:total")) || 1;
  nominalWidth = framesWidth = Number(frameSvg.getAttribute("width")) || 1180;
  var list = frameSvg.children, n = list.length;
  X = new Float64Array(n); W = new Float64Array(n); D = new Int32Array(n);
  shownX = new Float64Array(n); shownW = new Float64Array(n); state = new Int8Array(n); labels = new Array(n);
  // Only positions are read here; names, fills and labels are read when first needed.
  names = new Array(n); fills = new Array(n); groups = new Array(n); rects = new Array(n); texts = new Array(n);
  var rootY = 0;
  for (var i = 0; i < n; i++) {
    var g = list[i], rect = g.firstElementChild.nextElementSibling;
    groups[i] = g; rects[i] = rect; g.fgIndex = i;
    X[i] = Number(rect.getAttribute("fg:x")); W[i] = Number(rect.getAttribute("fg:w"));
    var y = Number(rect.getAttribute("y"));
    if (i === 0) rootY = y;
    D[i] = Math.round(Math.abs(y - rootY) / frameHeight);
    shownX[i] = X[i] / total; shownW[i] = W[i] / total;
  }
  frameSvg.addEventListener("mouseover", function (e) { var i = indexOf(e.target); if (i >= 0) details.nodeValue = nameType + " " + groups[i].firstElementChild.textContent; });
  frameSvg.addEventListener("mouseout", function () { details.nodeValue = " "; });
  frameSvg.addEventListener("click", function (e) { var i = indexOf(e.target); if (i >= 0) { if (i === 0) unzoom(); else zoom(i); } });
  unzoomButton.addEventListener("click", function () { unzoom(); });
  searchButton.addEventListener("click", function () { if (searchTerm === null) searchPrompt(); else resetSearch(); });
  caseButton.addEventListener("click", toggleCase);
  window.addEventListener("keydown", function (e) {
    if (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70)) { e.preventDefault(); searchPrompt(); }
    else if ((e.ctrlKey || e.metaKey) && e.keyCode === 73) { e.preventDefault(); toggleCase(); }
  });
  if (svg.getAttribute("fg:fluid") === "true") window.addEventListener("resize", fitWidth);
  fitWidth();
  var params = new URLSearchParams(window.location.search);
  if (params.get("i") === "1") toggleCase(true);
  if (params.has("x") && params.has("y")) {
    var zx = Number(params.get("x")), zy = Number(params.get("y"));
    for (var j = 1; j < n; j++) if (X[j] === zx && D[j] === zy) { zoom(j); break; }
  }
  if (params.get("s")) search(params.get("s"));
}

function nameOf(i) {
  if (names[i] === undefined) {
    var t = groups[i].firstElementChild.textContent, cut = t.lastIndexOf(" (");
    names[i] = cut >= 0 ? t.substring(0, cut) : t;
  }
  return names[i];
}

function textOf(i) {
  if (texts[i] === undefined) {
    var text = rects[i].nextElementSibling;
    if (text) labels[i] = text.textContent;
    else {
      text = document.createElementNS("http://www.w3.org/2000/svg", "text");
      text.setAttribute("x", percent(shownX[i]));
      text.setAttribute("y", Number(rects[i].getAttribute("y")) + (frameHeight + fontSize) / 2 - 2.5);
      groups[i].appendChild(text);
      labels[i] = "";
    }
    texts[i] = text;
  }
  return texts[i];
}

function fillOf(i) {
  if (fills[i] === undefined) fills[i] = rects[i].getAttribute("fill");
  return fills[i];
}

function indexOf(target) {
  while (target && target !== frameSvg) {
    if (target.fgIndex !== undefined) return target.fgIndex;
    target = target.parentNode;
  }
  return -1;
}

function fitWidth() {
  if (svg.getAttribute("fg:fluid") === "true") {
    // Standalone, the image is the window's width (reading it forces no layout); inline in a
    // page, ask the element.
    var width = svg === document.documentElement ? window.innerWidth : svg.getBoundingClientRect().width;
    if (width > 40) { framesWidth = width - 20; frameSvg.setAttribute("width", framesWidth); }
  } else {
    framesWidth = Number(frameSvg.getAttribute("width")) || framesWidth;
  }
  updateLabels();
}

function fitLabel(name, widthPx) {
  var chars = Math.floor((widthPx - 3) / charWidth);
  if (chars < 3) return "";
  if (name.length <= chars) return name;
  var end = chars - 2, code = name.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return name.substring(0, end) + "..";
}

// Frames too narrow for 3 characters have an empty label whatever their name: they are
// skipped without touching the DOM unless they once showed text.
function updateLabels() {
  var minWidth = 3 * charWidth + 3;
  for (var i = 0; i < groups.length; i++) {
    if (state[i] === 2) continue;
    var width = shownW[i] * framesWidth;
    if (width < minWidth && (labels[i] === "" || (labels[i] === undefined && W[i] / total * nominalWidth < minWidth))) continue;
    var text = textOf(i), label = fitLabel(nameOf(i), width);
    if (label !== labels[i]) { labels[i] = label; text.textContent = label; }
  }
}

function percent(v) { return (v * 100).toFixed(4) + "%"; }

// state: 0 = shown, 1 = ancestor of the zoomed frame (full width, faded), 2 = hidden.
// Frames are written depth first, so a frame's subtree is the run of frames after it that are
// deeper. Zooming marks the container "zoomed" (CSS hides every frame) and shows the subtree
// and the ancestors only: the DOM work is proportional to what is shown, not to the graph.
var touched = [];

function place(i, s, x, w) {
  state[i] = s;
  if (s === 1) groups[i].setAttribute("class", "parent");
  else if (s === 0 && zoomIndex >= 0) groups[i].setAttribute("class", "show");
  if (x !== shownX[i] || w !== shownW[i]) {
    shownX[i] = x; shownW[i] = w;
    rects[i].setAttribute("x", percent(x)); rects[i].setAttribute("width", percent(w));
    if (texts[i] !== undefined || rects[i].nextElementSibling) textOf(i).setAttribute("x", percent(x));
  }
  touched.push(i);
}

function layout(z) {
  var n = groups.length, i;
  // Undo the previous zoom: only the frames it touched.
  var previous = touched;
  touched = [];
  for (var k = 0; k < previous.length; k++) {
    i = previous[k];
    groups[i].removeAttribute("class");
    var x0 = X[i] / total, w0 = W[i] / total;
    if (shownX[i] !== x0 || shownW[i] !== w0) {
      shownX[i] = x0; shownW[i] = w0;
      rects[i].setAttribute("x", percent(x0)); rects[i].setAttribute("width", percent(w0));
      if (texts[i] !== undefined) texts[i].setAttribute("x", percent(x0));
    }
  }
  if (z < 0) {
    frameSvg.removeAttribute("class");
    state.fill(0);
    touched = [];
    updateLabels();
    return;
  }
  frameSvg.setAttribute("class", "zoomed");
  state.fill(2);
  var zx = X[z], zw = W[z], zd = D[z];
  // Ancestors: walking back, each shallower frame covering the zoomed one.
  var depth = zd;
  for (i = z - 1; i >= 0 && depth > 0; i--) {
    if (D[i] < depth && X[i] <= zx && X[i] + W[i] >= zx + zw) { place(i, 1, 0, 1); depth = D[i]; }
  }
  for (i = z; i < n && (i === z || D[i] > zd); i++) place(i, 0, (X[i] - zx) / zw, W[i] / zw);
  updateLabels();
}

function zoom(i) {
  zoomIndex = i;
  layout(i);
  unzoomButton.removeAttribute("class");
  if (searchTerm !== null) search(searchTerm);
  saveState();
}

function unzoom() {
  zoomIndex = -1;
  layout(-1);
  unzoomButton.setAttribute("class", "hide");
  if (searchTerm !== null) search(searchTerm);
  saveState();
}

function searchPrompt() {
  var term = window.prompt("Enter a search term (regexp allowed, eg: ^ext4_)" + (ignoreCase ? ", ignoring case" : "") + "\nPress Ctrl-i to toggle case sensitivity", searchTerm || "");
  if (term !== null && term !== "") search(term);
}

function toggleCase(quiet) {
  ignoreCase = !ignoreCase;
  if (ignoreCase) caseButton.setAttribute("class", "show"); else caseButton.removeAttribute("class");
  if (searchTerm !== null) search(searchTerm); else if (quiet !== true) saveState();
}

function resetSearch() {
  searchTerm = null;
  for (var i = 0; i < groups.length; i++) if (fills[i] !== undefined) rects[i].setAttribute("fill", fills[i]);
  searchButton.removeAttribute("class");
  searchButton.firstChild.nodeValue = "Search";
  matchedText.firstChild.nodeValue = " ";
  saveState();
}

// Matched % counts each sample once: matches are swept in x order and a match starting inside
// the last counted one (a nested frame) adds nothing. Hidden frames do not count; a matching
// ancestor of the zoomed frame covers the whole view.
function search(term) {
  var re;
  try { re = new RegExp(term, ignoreCase ? "i" : ""); }
  catch (e) { matchedText.firstChild.nodeValue = "Invalid regexp"; return; }
  searchTerm = term;
  var zx = zoomIndex < 0 ? 0 : X[zoomIndex], zw = zoomIndex < 0 ? total : W[zoomIndex];
  var starts = [], widths = [];
  for (var i = 0; i < groups.length; i++) {
    var hit = state[i] !== 2 && re.test(nameOf(i));
    if (hit) { fillOf(i); rects[i].setAttribute("fill", searchColor); }
    else if (fills[i] !== undefined) rects[i].setAttribute("fill", fills[i]);
    if (!hit) continue;
    if (state[i] === 1) { starts.push(zx); widths.push(zw); } else { starts.push(X[i]); widths.push(W[i]); }
  }
  var order = starts.map(function (_, k) { return k; });
  order.sort(function (a, b) { return starts[a] - starts[b] || widths[b] - widths[a]; });
  var sum = 0, end = -Infinity;
  for (var k = 0; k < order.length; k++) {
    var m = order[k];
    if (starts[m] >= end) { sum += widths[m]; end = starts[m] + widths[m]; }
  }
  searchButton.setAttribute("class", "show");
  searchButton.firstChild.nodeValue = "Reset Search";
  var pct = 100 * sum / zw;
  matchedText.firstChild.nodeValue = "Matched: " + (pct === 100 ? "100" : pct.toFixed(1)) + "%";
  saveState();
}

function saveState() {
  if (!window.history || !window.history.replaceState) return;
  var params = new URLSearchParams();
  if (zoomIndex > 0) { params.set("x", String(X[zoomIndex])); params.set("y", String(D[zoomIndex])); }
  if (searchTerm !== null) params.set("s", searchTerm);
  if (ignoreCase) params.set("i", "1");
  var query = params.toString();
  try { window.history.replaceState(null, "", query ? "?" + query : window.location.pathname); } catch (e) {}
}
`
