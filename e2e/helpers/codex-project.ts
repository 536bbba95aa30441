// A small project the scripted model server "builds" with the real Codex CLI, and what it should
// produce: shared by the runner's codex tests and the e2e test.
import { addFilePatch, assistantMessage, execCommand, type ScriptTurn } from './model-server';

export const FAKE_KEY = 'sk-test-not-a-real-key';

export const APP_PY = `import sys


def fibonacci(n):
    a, b = 0, 1
    out = []
    for _ in range(n):
        out.append(a)
        a, b = b, a + b
    return out


if __name__ == "__main__":
    print(" ".join(str(x) for x in fibonacci(int(sys.argv[1]) if len(sys.argv) > 1 else 10)))
`;

export const TEST_APP_PY = `from app import fibonacci


def test_first_five():
    assert fibonacci(5) == [0, 1, 1, 2, 3]
`;

export const BUILD = 'A Python CLI that prints Fibonacci numbers, with a test';
export const EDIT = 'Add a comment to app.py';
export const EDIT_LINE = '# Edited: prints Fibonacci numbers';
export const MODEL_ERROR = 'The model `gpt-5.5` does not exist or you do not have access to it.';

/**
 * Turn one builds the project: app.py through exec_command, the test through apply_patch, then the
 * answer (3 model requests). Turn two edits app.py (2 requests). Only shell builtins and coreutils:
 * the worker image has no Python.
 */
export function projectScript(): ScriptTurn[] {
  return [
    [
      execCommand(`cat > app.py <<'EOF'\n${APP_PY}EOF`),
      addFilePatch('tests/test_app.py', TEST_APP_PY),
      assistantMessage('Created app.py, a Fibonacci CLI, with a test in tests/test_app.py.'),
    ],
    [execCommand(`printf '\\n${EDIT_LINE}\\n' >> app.py`), assistantMessage('Added a comment to app.py.')],
  ];
}
