// Jupyter outputs from library code. Inside a tslab kernel (the kit's notebooks), library code can
// show HTML in the running cell and redraw it in place: tslab's `newDisplay()` sends Jupyter's
// `display_data` once, then `update_display_data` with the same display_id, which every Jupyter front
// end (classic Notebook, JupyterLab, nbclient/nbconvert) applies to the existing output instead of
// appending. That is how a progress bar stays one line in a notebook.
//
// The kernel's own tslab instance is reached through the `require` tslab hands to cell code
// (`globalThis.__tslab__.require`, which maps 'tslab' to the running kernel), never through a
// static import: outside a kernel (CLI, tests, scripts) there is no such global and nothing here
// loads tslab.

/** A notebook output that can be drawn again in place. */
export interface LiveDisplay {
  html(s: string): void;
  text(s: string): void;
}

type TslabPublic = { newDisplay(): LiveDisplay; display: LiveDisplay };
type TslabGlobal = { require?: (id: string) => unknown };

function kernelTslab(): TslabPublic | null {
  const g = (globalThis as { __tslab__?: TslabGlobal }).__tslab__;
  if (!g || typeof g.require !== 'function') return null;
  try {
    const t = g.require('tslab') as Partial<TslabPublic> | null;
    return t && typeof t.newDisplay === 'function' && t.display ? (t as TslabPublic) : null;
  } catch {
    return null;
  }
}

/** True when this code runs inside a tslab Jupyter kernel. */
export function inNotebook(): boolean {
  return kernelTslab() !== null;
}

/** A new output in the running notebook cell that later calls redraw in place; null outside a kernel. */
export function newLiveDisplay(): LiveDisplay | null {
  const t = kernelTslab();
  return t ? t.newDisplay() : null;
}

/** Shows HTML as a new output of the running notebook cell; false (nothing shown) outside a kernel. */
export function showHtml(html: string): boolean {
  const t = kernelTslab();
  if (!t) return false;
  t.display.html(html);
  return true;
}
