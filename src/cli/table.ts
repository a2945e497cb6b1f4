// kubectl-style plain tables: upper-case headers, columns padded to the widest cell
// and separated by three spaces, no trailing spaces, no colours (pipes and CI logs).

export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [render(headers), ...rows.map(render)];
}
