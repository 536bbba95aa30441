import fs from 'node:fs';
import path from 'node:path';
import { agentErrorCode, ERROR_CODES, ErrorCode } from './outcomes';

describe('error codes', () => {
  it('are all documented in docs/outcomes.md, and nothing else is listed there', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'outcomes.md'), 'utf8');
    const listed = [...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('take from an agent only what the agent can know; anything else is agent_error', () => {
    expect(agentErrorCode('model_unreachable')).toBe('model_unreachable');
    expect(agentErrorCode('forced_error')).toBe('forced_error');
    expect(agentErrorCode('cancelled')).toBe('agent_error');
    expect(agentErrorCode('out_of_memory')).toBe('agent_error');
    expect(agentErrorCode('no_such_code')).toBe('agent_error');
    expect(agentErrorCode(undefined)).toBe('agent_error');
  });

  it('are an enum of the OpenAPI document', () => {
    expect(ErrorCode.options).toEqual(ERROR_CODES);
  });
});
