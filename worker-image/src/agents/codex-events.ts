import path from 'node:path';
import type { TokenUsage } from '@cwo/contracts';

/** What a run of `codex exec --json` told us, gathered from its events. */
export interface CodexRunState {
  threadId?: string;
  turnCompleted: boolean;
  turnFailed: boolean;
  /** Thread totals from the last `turn.completed` (Codex counts from the thread's start). */
  usage?: TokenUsage;
  /** The agent's messages, in order; the last one is its answer. */
  messages: string[];
  /** Fatal errors, each once, readable. */
  errors: string[];
  /**
   * Why the model endpoint could not be reached, while nothing has come from it since: Codex
   * keeps reconnecting ("waiting for network") until its time limit. Cleared by any answer.
   */
  unreachable?: string;
  created: string[];
  modified: string[];
  deleted: string[];
}

const MAX_OUTPUT_LINES = 20;

/** A JSON object from Codex's output, read field by field (its shape varies between versions). */
type Fields = Record<string, unknown>;
const fields = (value: unknown): Fields => (typeof value === 'object' && value !== null ? (value as Fields) : {});
/** A field as text: strings as they are, other values as JSON, a missing one as `fallback`. */
const text = (value: unknown, fallback = ''): string =>
  typeof value === 'string' ? value : value === undefined || value === null ? fallback : JSON.stringify(value);

const MAX_LINE_CHARS = 2000;

/** Codex's words for a connection to the model that was not made (refused, no route, no such name). */
const CONNECTION_FAILED =
  /\bConnection failed\b|error sending request|connection refused|dns error|failed to lookup address/i;

/** Codex reports an API error as the raw response body; the message inside is what a user needs. */
export function readableError(message: string): string {
  try {
    const body: unknown = JSON.parse(message);
    const inner = (body as { error?: { message?: unknown } })?.error?.message;
    if (typeof inner === 'string' && inner.trim()) return inner.trim();
  } catch {
    /* not JSON: as it is */
  }
  return message.trim();
}

/** Codex wraps each command in `/bin/bash -c '…'` (or "…"); the user wants to see the command. */
export function readableCommand(command: string): string {
  const shell = /^\/(?:usr\/)?bin\/(?:ba|z)?sh -l?c ([\s\S]*)$/.exec(command);
  if (!shell) return command;
  const arg = shell[1]!;
  if (/^'[\s\S]*'$/.test(arg)) return arg.slice(1, -1).replace(/'\\''/g, "'");
  if (/^"[\s\S]*"$/.test(arg)) return arg.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  return /^\S+$/.test(arg) ? arg : command;
}

/** A command as log lines: `$ first line`, then `> ` before each continuation line. */
function commandLines(command: string): string[] {
  return readableCommand(command)
    .split('\n')
    .map((l, i) => `${i === 0 ? '$' : '>'} ${clip(l)}`);
}

function clip(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
}

/** The last lines of a command's output, indented under it. */
function outputLines(output: string): string[] {
  const lines = output.replace(/\n$/, '').split('\n');
  if (output.trim() === '') return [];
  const shown = lines.slice(-MAX_OUTPUT_LINES).map((l) => `  ${clip(l)}`);
  return lines.length > MAX_OUTPUT_LINES ? [`  … ${lines.length - MAX_OUTPUT_LINES} earlier lines`, ...shown] : shown;
}

/** What the events say about the model endpoint: it answered, or Codex could not connect to it. */
export interface ConnectionListener {
  modelReached(): void;
  connectionFailed(): void;
}

/**
 * Turns the JSONL events of `codex exec --json` into readable log lines as they arrive, and
 * gathers the run's outcome. Unknown events are ignored: newer Codex versions add kinds.
 */
export class CodexEventReader {
  readonly state: CodexRunState = {
    turnCompleted: false,
    turnFailed: false,
    messages: [],
    errors: [],
    created: [],
    modified: [],
    deleted: [],
  };

  constructor(
    private readonly workspace: string,
    private readonly connection?: ConnectionListener,
  ) {}

  /** One line of Codex's stdout -> the log lines it stands for (maybe none). */
  read(line: string): string[] {
    if (line.trim() === '') return [];
    let event: Fields;
    try {
      event = fields(JSON.parse(line));
    } catch {
      return [clip(line)];
    }
    const item = fields(event.item);
    // Anything the model sent means it was reached (turn.started comes before the first request).
    if (/^(item\.(started|completed)|turn\.completed)$/.test(text(event.type))) {
      this.state.unreachable = undefined;
      this.connection?.modelReached();
    }
    switch (event.type) {
      case 'thread.started':
        this.state.threadId = text(event.thread_id);
        return [`codex: thread ${this.state.threadId}`];
      case 'item.started':
        return item.type === 'command_execution' ? commandLines(text(item.command)) : [];
      case 'item.completed':
        return this.itemCompleted(item);
      case 'turn.completed':
        return this.turnCompleted(event.usage === undefined ? undefined : fields(event.usage));
      case 'turn.failed':
        this.state.turnFailed = true;
        return this.fatal(text(fields(event.error).message, 'the turn failed'));
      case 'error': {
        const message = text(event.message);
        // Retry notices ("Reconnecting... 1/5 …") come as error events too; the turn may still succeed.
        if (/^Reconnecting\b/.test(message)) {
          // "Reconnecting... waiting for network (Connection failed: error sending request)": the cause.
          const cause = /\(([^()]+)\)\s*$/.exec(message)?.[1] ?? message;
          if (CONNECTION_FAILED.test(message)) {
            this.state.unreachable = cause;
            this.connection?.connectionFailed();
          }
          return [`codex: ${readableError(message)}`];
        }
        if (CONNECTION_FAILED.test(message)) this.state.unreachable = readableError(message);
        return this.fatal(message);
      }
      default:
        return [];
    }
  }

  private fatal(message: string): string[] {
    const readable = readableError(message) || 'unknown error';
    if (this.state.errors.includes(readable)) return [];
    this.state.errors.push(readable);
    return [`error: ${clip(readable)}`];
  }

  private itemCompleted(item: Fields): string[] {
    switch (item.type) {
      case 'command_execution': {
        const status = text(item.exit_code ?? item.status);
        return [...outputLines(text(item.aggregated_output)), `exit ${status}`];
      }
      case 'file_change':
        return (Array.isArray(item.changes) ? (item.changes as unknown[]) : []).map((change) =>
          this.fileChange(fields(change)),
        );
      case 'agent_message': {
        const message = text(item.text);
        this.state.messages.push(message);
        return message.split('\n').map((l, i) => (i === 0 ? `codex: ${clip(l)}` : `  ${clip(l)}`));
      }
      case 'error':
        return [`warning: ${clip(text(item.message))}`];
      default:
        return [];
    }
  }

  private fileChange(change: Fields): string {
    const kind = text(change.kind, 'update');
    const absolute = path.resolve(this.workspace, text(change.path));
    const relative = path.relative(this.workspace, absolute);
    const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
    if (inside) {
      const list = kind === 'add' ? this.state.created : kind === 'delete' ? this.state.deleted : this.state.modified;
      if (!list.includes(relative)) list.push(relative);
    }
    return `file ${kind} ${inside ? relative : absolute}`;
  }

  private turnCompleted(usage: Fields | undefined): string[] {
    this.state.turnCompleted = true;
    if (!usage) return [];
    const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);
    this.state.usage = {
      input_tokens: count(usage.input_tokens),
      cached_input_tokens: count(usage.cached_input_tokens),
      output_tokens: count(usage.output_tokens),
    };
    return [];
  }
}
