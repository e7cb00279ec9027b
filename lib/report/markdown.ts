/**
 * Markdown tables for run summaries.
 *
 * @module
 */

import { fmtNumber } from "./format.ts";

/** Column alignment. */
export type Align = "left" | "right" | "center";

/** A table cell: text, or a number (formatted with `fmtNumber`, 4 significant digits). */
export type Cell = string | number;

/** Options for {@linkcode markdownTable}. */
export interface MarkdownTableOptions {
  /**
   * One alignment for all columns, or one per column.
   * @default right for columns whose cells are all numbers (or numeric text), left otherwise
   */
  align?: Align | readonly Align[];
}

/**
 * Renders a GitHub-flavoured Markdown table with padded columns (readable as plain text too).
 * Pipes in cells are escaped and newlines become spaces.
 *
 * @param headers Column headers.
 * @param rows Rows of cells, each as long as `headers`.
 * @param options Column alignment.
 * @returns The table, one line per row, without a trailing newline.
 *
 * @example A results table
 * ```ts
 * import { markdownTable } from "./markdown.ts";
 * console.log(markdownTable(["schedule", "bits/dim"], [["linear", 3.7012], ["cosine", 3.6518]]));
 * // | schedule | bits/dim |
 * // | :------- | -------: |
 * // | linear   |    3.701 |
 * // | cosine   |    3.652 |
 * ```
 */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  options: MarkdownTableOptions = {},
): string {
  const cols = headers.length;
  if (cols === 0) throw new TypeError(`Cannot build a table without columns: give headers`);
  rows.forEach((row, i) => {
    if (row.length !== cols) {
      throw new TypeError(
        `Cannot build a table of ${cols} columns as row ${i} has ${row.length} cells`,
      );
    }
  });
  const text = rows.map((row) =>
    row.map((c) => escapeCell(typeof c === "number" ? fmtNumber(c) : c))
  );
  const align = alignments(options.align, cols, rows);
  const head = headers.map(escapeCell);
  const widths = head.map((h, j) =>
    Math.max(3, width(h), ...text.map((row) => width(row[j] as string)))
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, j) => pad(c, widths[j] as number, align[j] as Align)).join(" | ")} |`;
  const rule = align.map((a, j) => {
    const w = widths[j] as number;
    switch (a) {
      case "left":
        return `:${"-".repeat(w - 1)}`;
      case "right":
        return `${"-".repeat(w - 1)}:`;
      case "center":
        return `:${"-".repeat(w - 2)}:`;
      default: {
        const never: never = a;
        throw new TypeError(`Unknown alignment '${never}': use "left", "right" or "center"`);
      }
    }
  });
  return [line(head), `| ${rule.join(" | ")} |`, ...text.map(line)].join("\n");
}

function alignments(
  align: Align | readonly Align[] | undefined,
  cols: number,
  rows: readonly (readonly Cell[])[],
): Align[] {
  if (typeof align === "string") return new Array<Align>(cols).fill(align);
  if (align !== undefined) {
    if (align.length !== cols) {
      throw new TypeError(
        `Cannot align a table of ${cols} columns with ${align.length} alignments`,
      );
    }
    return [...align];
  }
  const numeric = /^[-−+]?(\d[\d,]*\.?\d*|\.\d+)(e[-+]?\d+)?%?( ± .*)?$/i;
  return Array.from({ length: cols }, (_, j) => {
    const cells = rows.map((r) => r[j] as Cell).filter((c) => c !== "");
    const allNumeric = cells.length > 0 &&
      cells.every((c) => typeof c === "number" || numeric.test(c.trim()));
    return allNumeric ? "right" : "left";
  });
}

function escapeCell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

/** Width in code points (so "±" and "σ" count as one). */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, columns: number, align: Align): string {
  const gap = columns - width(text);
  if (gap <= 0) return text;
  switch (align) {
    case "left":
      return text + " ".repeat(gap);
    case "right":
      return " ".repeat(gap) + text;
    case "center": {
      const l = Math.floor(gap / 2);
      return " ".repeat(l) + text + " ".repeat(gap - l);
    }
    default: {
      const never: never = align;
      throw new TypeError(`Unknown alignment '${never}'`);
    }
  }
}
