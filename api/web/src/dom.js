// Small DOM helpers the panels share.

/** An element with properties and children: el('a', { href }, 'text'). */
export function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** A <select name> of [value, label] options. */
export function select(name, options) {
  const s = el('select', { name });
  for (const [value, label] of options) s.append(el('option', { value, textContent: label }));
  return s;
}
