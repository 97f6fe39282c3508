// Small DOM helpers the views share.

/** An element with properties and children: el('a', { href }, 'text'). */
export function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

/** Sets data-* attributes: data(button, { org: '12' }). */
export function data(element, values) {
  for (const [k, v] of Object.entries(values)) element.dataset[k] = String(v);
  return element;
}
