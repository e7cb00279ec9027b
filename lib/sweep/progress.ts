/**
 * The sweep's progress display: on a terminal one redrawn line with the current run's and the
 * whole sweep's ETA; otherwise (a CI log, a pipe) a plain line every `intervalMs`.
 *
 * @module
 */

/** Options of {@linkcode Progress}. */
export interface ProgressOptions {
  /**
   * Where the display goes.
   * @default {writes to stderr}
   */
  write?: (text: string) => void;
  /**
   * Redraw one line (a terminal) instead of printing plain lines.
   * @default {Deno.stderr.isTerminal()}
   */
  tty?: boolean;
  /**
   * The clock, in milliseconds.
   * @default {performance.now}
   */
  now?: () => number;
  /**
   * Plain mode: at most one line per this many milliseconds.
   * @default {10000}
   */
  intervalMs?: number;
  /**
   * Terminal mode: the redrawn line is cut to this width so it never wraps.
   * @default {the terminal's width, else 120}
   */
  columns?: number;
}

/** The work a sweep still has to do. */
export interface ProgressWork {
  /** Trainings to run. */
  trainings: number;
  /** Evaluations to run. */
  evaluations: number;
}

/** What is running: a training or an evaluation. */
export type UnitKind = "train" | "eval";

/**
 * Progress of a sweep, fed by the scheduler (`begin`, `update`, `end`).
 *
 * @example Plain lines, one per interval
 * ```ts
 * import { Progress } from "./progress.ts";
 * const lines: string[] = [];
 * let t = 0;
 * const p = new Progress({ trainings: 1, evaluations: 0 }, {
 *   tty: false,
 *   now: () => t,
 *   write: (s) => lines.push(s),
 *   intervalMs: 1000,
 * });
 * p.begin("train", "train-0123456789");
 * t = 1000;
 * p.update(10, 100);
 * t = 2000;
 * p.update(20, 100);
 * lines.at(-1); // "[train 1/1, eval 0/0] train-0123456789 step 20/100 (20%) · run ETA 8s · sweep ETA 8s\n"
 * ```
 */
export class Progress {
  #work: ProgressWork;
  #write: (text: string) => void;
  #tty: boolean;
  #now: () => number;
  #interval: number;
  #columns: number;
  #done = { train: 0, eval: 0 };
  #spent = { train: 0, eval: 0 };
  #unit:
    | { kind: UnitKind; label: string; start: number; first?: { step: number; at: number } }
    | null = null;
  #last = { step: 0, total: 0, info: {} as Record<string, number> };
  #lastPrint = -Infinity;
  #shown = "";

  /**
   * Creates a display for the given amount of work.
   *
   * @param work What the sweep has to do.
   * @param options Output, mode and clock.
   */
  constructor(work: ProgressWork, options: ProgressOptions = {}) {
    this.#work = work;
    this.#write = options.write ??
      ((text) => Deno.stderr.writeSync(new TextEncoder().encode(text)));
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    this.#now = options.now ?? (() => performance.now());
    this.#interval = options.intervalMs ?? 10_000;
    this.#columns = options.columns ?? terminalColumns();
  }

  /**
   * A training or evaluation starts.
   *
   * @param kind `train` or `eval`.
   * @param label What to show (a run or training id).
   */
  begin(kind: UnitKind, label: string): void {
    this.#unit = { kind, label, start: this.#now() };
    this.#last = { step: 0, total: 0, info: {} };
    if (!this.#tty) this.#lastPrint = this.#now(); // plain lines start one interval in
    this.#draw(true);
  }

  /**
   * The current unit reached `step` of `total`.
   *
   * @param step The step reached.
   * @param total The last step.
   * @param info A few numbers to show (loss, …).
   */
  update(step: number, total: number, info: Record<string, number> = {}): void {
    const unit = this.#unit;
    if (unit === null) return;
    unit.first ??= { step, at: this.#now() };
    this.#last = { step, total, info };
    this.#draw(false);
  }

  /** The current unit finished (or failed); its time feeds the sweep ETA. */
  end(): void {
    const unit = this.#unit;
    if (unit === null) return;
    this.#done[unit.kind]++;
    this.#spent[unit.kind] += this.#now() - unit.start;
    this.#unit = null;
    this.clear();
  }

  /**
   * Prints a log line without garbling the redrawn line.
   *
   * @param write Writes the line (to stdout).
   */
  logLine(write: () => void): void {
    const shown = this.#shown;
    this.clear();
    write();
    if (shown !== "" && this.#tty) {
      this.#write(shown);
      this.#shown = shown;
    }
  }

  /** Erases the redrawn line (terminal mode). */
  clear(): void {
    if (this.#tty && this.#shown !== "") this.#write("\r\x1b[2K");
    this.#shown = "";
  }

  /**
   * The current status line.
   *
   * @returns One line of text (no newline).
   */
  line(): string {
    const unit = this.#unit;
    const counts = `[train ${
      this.#done.train + (unit?.kind === "train" ? 1 : 0)
    }/${this.#work.trainings}, eval ${
      this.#done.eval + (unit?.kind === "eval" ? 1 : 0)
    }/${this.#work.evaluations}]`;
    if (unit === null) return counts;
    const { step, total, info } = this.#last;
    const parts = [`${counts} ${unit.label}`];
    if (total > 0) {
      parts[0] += ` step ${step}/${total} (${Math.floor((100 * step) / total)}%)`;
    }
    const extras = Object.entries(info).map(([k, v]) => `${k}=${formatNumber(v)}`);
    if (extras.length > 0) parts[0] += ` ${extras.join(" ")}`;
    const runLeft = this.#unitRemaining();
    parts.push(`run ETA ${formatDuration(runLeft)}`);
    const sweep = this.#sweepRemaining(runLeft);
    parts.push(`sweep ETA ${formatDuration(sweep?.ms ?? null)}${sweep?.partial ? "+" : ""}`);
    return parts.join(" · ");
  }

  #unitRemaining(): number | null {
    const unit = this.#unit;
    const { step, total } = this.#last;
    if (unit?.first === undefined || total <= 0) return null;
    const steps = step - unit.first.step;
    const elapsed = this.#now() - unit.first.at;
    if (steps <= 0 || elapsed <= 0) return null;
    return ((total - step) * elapsed) / steps;
  }

  /** Time left for the sweep; `partial` when a kind of unit has no measured time yet. */
  #sweepRemaining(runLeft: number | null): { ms: number; partial: boolean } | null {
    const unit = this.#unit;
    if (runLeft === null || unit === null) return null;
    const currentTotal = this.#now() - unit.start + runLeft;
    const mean = (kind: UnitKind) =>
      this.#done[kind] > 0
        ? this.#spent[kind] / this.#done[kind]
        : unit.kind === kind
        ? currentTotal
        : null;
    let ms = runLeft;
    let partial = false;
    for (const kind of ["train", "eval"] as const) {
      const todo = (kind === "train" ? this.#work.trainings : this.#work.evaluations) -
        this.#done[kind] - (unit.kind === kind ? 1 : 0);
      if (todo <= 0) continue;
      const m = mean(kind);
      if (m === null) partial = true;
      else ms += todo * m;
    }
    return { ms, partial };
  }

  #draw(force: boolean): void {
    const now = this.#now();
    if (this.#tty) {
      if (!force && now - this.#lastPrint < 100) return;
      this.#lastPrint = now;
      this.#shown = `\r\x1b[2K${this.line().slice(0, this.#columns - 1)}`;
      this.#write(this.#shown);
      return;
    }
    if (force || now - this.#lastPrint < this.#interval) return;
    this.#lastPrint = now;
    this.#write(`${this.line()}\n`);
  }
}

/**
 * Formats milliseconds as `9s`, `4m05s` or `2h03m`; `?` when unknown.
 *
 * @param ms Milliseconds, or `null`.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * formatDuration(245_000); // "4m05s"
 * ```
 */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "?";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 120;
  }
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0)
    ? v.toExponential(2)
    : v.toPrecision(4);
}
