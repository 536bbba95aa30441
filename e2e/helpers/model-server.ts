// A scripted stand-in for the OpenAI Responses API, as the Codex CLI uses it: the real `codex`
// binary runs against it in tests, with no network and no API key.
//
// The server is stateless about the conversation: Codex sends the whole conversation on every
// request, so the server finds the turn by counting the user's instructions in `input`, and the
// step inside the turn by counting the tool outputs after the last instruction. A resumed thread
// in a new process therefore lands on the right turn too.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

/** A Responses API output item, as Codex reads it. */
export type ScriptItem = Record<string, unknown> & { type: string };

/** The items the model "answers" for one user instruction, in order; each tool call ends a response. */
export type ScriptTurn = ScriptItem[];

export type ModelServerBehaviour =
  /** Answer each instruction with the next scripted turn. */
  | { kind: 'script'; turns: ScriptTurn[] }
  /** Answer every model request with this HTTP status and an OpenAI-style error body. */
  | { kind: 'fail'; status: number; message: string }
  /** Accept model requests and never answer (for timeout tests). */
  | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body; undefined when there was none or it was not JSON. */
  body: any;
}

export interface ModelServerOptions {
  behaviour: ModelServerBehaviour;
  /** '127.0.0.1' (default), or '0.0.0.0' so that a container can reach it through the host. */
  host?: string;
  /** Token usage reported with each response (Codex sums them over a turn). */
  usage?: { input_tokens: number; cached_input_tokens: number; output_tokens: number };
}

const DEFAULT_USAGE = { input_tokens: 1000, cached_input_tokens: 200, output_tokens: 50 };

// Codex adds user-role messages of its own (environment context, AGENTS.md, skills); they are
// not instructions. Each is one input_text whose text starts with one of these markers.
const CONTEXT_MARKERS = ['<environment_context>', '<user_instructions>', '# AGENTS.md', '<permissions', '<skills'];
const TOOL_OUTPUT_TYPES = new Set(['function_call_output', 'custom_tool_call_output']);
const TOOL_CALL_TYPES = new Set(['function_call', 'custom_tool_call']);

// ---- building scripts ------------------------------------------------------------------------

let callCounter = 0;
const nextCallId = () => `call_${++callCounter}`;

/** A shell command through Codex's exec_command tool. */
export function execCommand(cmd: string): ScriptItem {
  return {
    type: 'function_call',
    name: 'exec_command',
    call_id: nextCallId(),
    arguments: JSON.stringify({ cmd, login: false }),
  };
}

/** A patch through Codex's apply_patch tool (the `*** Begin Patch` format). */
export function applyPatch(patch: string): ScriptItem {
  return { type: 'custom_tool_call', name: 'apply_patch', call_id: nextCallId(), input: patch };
}

/** A patch that adds one file with these contents. */
export function addFilePatch(filePath: string, contents: string): ScriptItem {
  const lines = contents.endsWith('\n') ? contents.slice(0, -1).split('\n') : contents.split('\n');
  return applyPatch(
    `*** Begin Patch\n*** Add File: ${filePath}\n${lines.map((l) => `+${l}`).join('\n')}\n*** End Patch\n`,
  );
}

/** A message from the assistant; the last one of a turn is Codex's final answer. */
export function assistantMessage(text: string): ScriptItem {
  return { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] };
}

// ---- reading what Codex sent -----------------------------------------------------------------

function textOf(item: any): string {
  if (!Array.isArray(item?.content)) return typeof item?.content === 'string' ? item.content : '';
  return item.content.map((c: any) => (typeof c?.text === 'string' ? c.text : '')).join('');
}

function isInstruction(item: any): boolean {
  if (item?.type !== 'message' || item.role !== 'user') return false;
  const text = textOf(item).trimStart();
  return !CONTEXT_MARKERS.some((m) => text.startsWith(m));
}

/** The user's instructions in a request, oldest first. */
export function instructionsOf(body: any): string[] {
  const input: any[] = Array.isArray(body?.input) ? body.input : [];
  return input.filter(isInstruction).map(textOf);
}

/** Which turn (0-based) and which step inside it a Responses request is for. */
export function positionOf(body: any): { turn: number; toolOutputs: number } {
  const input: any[] = Array.isArray(body?.input) ? body.input : [];
  let turn = -1;
  let toolOutputs = 0;
  for (const item of input) {
    if (isInstruction(item)) {
      turn += 1;
      toolOutputs = 0;
    } else if (TOOL_OUTPUT_TYPES.has(item?.type)) {
      toolOutputs += 1;
    }
  }
  return { turn: Math.max(turn, 0), toolOutputs };
}

/** The items of one response: from after the n-th tool call up to and including the next one. */
export function itemsForStep(turn: ScriptTurn, toolOutputs: number): ScriptItem[] {
  let start = 0;
  for (let seen = 0; seen < toolOutputs && start < turn.length; start++) {
    if (TOOL_CALL_TYPES.has(turn[start]!.type)) seen++;
  }
  const out: ScriptItem[] = [];
  for (let i = start; i < turn.length; i++) {
    out.push(turn[i]!);
    if (TOOL_CALL_TYPES.has(turn[i]!.type)) break;
  }
  return out;
}

// ---- the server ------------------------------------------------------------------------------

export class ModelServer {
  /** Every request received, in order (WebSocket upgrades included). */
  readonly requests: RecordedRequest[] = [];
  private readonly server: http.Server;
  private behaviour: ModelServerBehaviour;
  private readonly host: string;
  private readonly usage: NonNullable<ModelServerOptions['usage']>;
  private responseCounter = 0;

  constructor(options: ModelServerOptions) {
    this.behaviour = options.behaviour;
    this.host = options.host ?? '127.0.0.1';
    this.usage = options.usage ?? DEFAULT_USAGE;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Codex tries a WebSocket first; 426 makes it fall back to HTTP streaming at once.
    this.server.on('upgrade', (req: http.IncomingMessage, socket) => {
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: undefined });
      socket.end('HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => resolve());
    });
    return this;
  }

  /** Closes the server, cutting open (hanging) connections too. */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The base URL Codex is given (`CODEX_BASE_URL`), for a process on this host. */
  get url(): string {
    return this.urlFor('127.0.0.1');
  }

  /** The base URL under another host name, e.g. `host.containers.internal` from a container. */
  urlFor(hostname: string): string {
    return `http://${hostname}:${this.port}/v1`;
  }

  /** Switches behaviour between runs of one test. */
  setBehaviour(behaviour: ModelServerBehaviour): void {
    this.behaviour = behaviour;
  }

  /** The bodies of the model requests (POST /v1/responses) received so far. */
  get modelRequests(): any[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/responses')).map((r) => r.body);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: any;
    try {
      body = raw.length ? JSON.parse(raw) : undefined;
    } catch {
      body = undefined;
    }
    const path = (req.url ?? '').split('?')[0]!;
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });

    if (req.method !== 'POST' || !path.endsWith('/responses')) {
      sendJson(res, 404, { error: { message: `no route for ${req.method} ${path}`, type: 'invalid_request_error' } });
      return;
    }
    const behaviour = this.behaviour;
    if (behaviour.kind === 'hang') return; // the socket stays open until stop()
    if (behaviour.kind === 'fail') {
      sendJson(res, behaviour.status, {
        error: { message: behaviour.message, type: 'invalid_request_error', param: null, code: null },
      });
      return;
    }
    const { turn, toolOutputs } = positionOf(body);
    const script = behaviour.turns[turn];
    if (!script) {
      sendJson(res, 400, { error: { message: `the script has no turn ${turn + 1}`, type: 'invalid_request_error' } });
      return;
    }
    this.stream(res, itemsForStep(script, toolOutputs));
  }

  private stream(res: http.ServerResponse, items: ScriptItem[]): void {
    const id = `resp_${++this.responseCounter}`;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (event: Record<string, unknown>) => res.write(`data: ${JSON.stringify(event)}\n\n`);
    send({ type: 'response.created', response: { id } });
    items.forEach((item, output_index) => send({ type: 'response.output_item.done', output_index, item }));
    const { input_tokens, cached_input_tokens, output_tokens } = this.usage;
    send({
      type: 'response.completed',
      response: {
        id,
        usage: {
          input_tokens,
          input_tokens_details: { cached_tokens: cached_input_tokens },
          output_tokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: input_tokens + output_tokens,
        },
      },
    });
    res.end();
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Creates and starts a scripted model server. */
export function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  return new ModelServer(options).start();
}

/** A model endpoint URL on a loopback port nothing listens on (it was free a moment ago). */
export async function closedPortUrl(): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}/v1`;
}
