// Where command output goes. The rule that keeps `--json` usable in scripts: in JSON
// mode stdout carries exactly one JSON document (written by the base command), so
// everything a library prints goes through this object and never straight to stdout.

export interface TextSink {
  write(chunk: string): unknown;
}

export interface Output {
  /** True when --json was given: `line()` is silent, the result is printed as JSON. */
  readonly json: boolean;
  /** A line of the human-readable result (stdout). Dropped in --json mode. */
  line(text?: string): void;
  /** Progress, warnings and hints that are not the result (stderr), in both modes. */
  note(text: string): void;
  /**
   * Console of a long-running command (`up`): child process output and supervisor
   * messages. stdout for humans; stderr in --json mode so stdout stays one document.
   */
  console(text: string): void;
}

export function createOutput(options: { json: boolean; stdout?: TextSink; stderr?: TextSink }): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const json = options.json;
  return {
    json,
    line(text = '') {
      if (!json) stdout.write(text + '\n');
    },
    note(text) {
      stderr.write(text + '\n');
    },
    console(text) {
      (json ? stderr : stdout).write(text + '\n');
    },
  };
}

/** An Output that records lines, for unit tests of library functions. */
export function createMemoryOutput(json = false): Output & { lines: string[]; notes: string[]; consoleLines: string[] } {
  const lines: string[] = [];
  const notes: string[] = [];
  const consoleLines: string[] = [];
  return {
    json,
    lines,
    notes,
    consoleLines,
    line(text = '') {
      if (!json) lines.push(text);
    },
    note(text) {
      notes.push(text);
    },
    console(text) {
      consoleLines.push(text);
    },
  };
}
