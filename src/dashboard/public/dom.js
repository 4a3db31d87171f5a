/*
 * The few DOM helpers every section uses. Nothing here runs on import, so a module that imports this
 * one still loads without a document.
 */

export const $ = (id) => document.getElementById(id);

/** Builds an element; text is always set as text, never parsed as HTML. */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  appendChild(node, children);
  return node;
}

/**
 * Appends children as h() does: arrays flattened, null, undefined and false left out. (The DOM's own
 * append() would write them as the text "null", "false" or "a,b".)
 */
export function append(node, ...children) {
  appendChild(node, children);
}

function appendChild(node, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => appendChild(node, c));
  else node.append(child instanceof Node ? child : String(child));
}

export function show(node, visible) {
  node.hidden = !visible;
}

/** Says something through the polite status region (read out by screen readers). */
export function announce(message) {
  $('status').textContent = message;
}

/** Hands a Blob to the browser as a download (object URL on a hidden <a download>, which CSP does not govern). */
export function saveFile(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
