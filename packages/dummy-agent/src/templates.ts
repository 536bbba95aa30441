// The dummy agent's initial project: a minimal Python CLI printing Fibonacci numbers, with a test.

export const README_MD = `# Fibonacci CLI

A minimal Python command-line program that prints the first N Fibonacci numbers.

## Usage

\`\`\`bash
python app.py          # first 10 numbers
python app.py 15       # first 15 numbers
\`\`\`

## Tests

\`\`\`bash
python -m pytest -q
\`\`\`
`;

export const APP_PY = `import sys


def fibonacci(n):
    """Return the first n Fibonacci numbers."""
    numbers = []
    a, b = 0, 1
    for _ in range(n):
        numbers.append(a)
        a, b = b, a + b
    return numbers


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 10
    for value in fibonacci(n):
        print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;

export const TEST_CLI_PY = `import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import fibonacci, main  # noqa: E402


def test_first_ten():
    assert fibonacci(10) == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]


def test_main_prints_numbers(capsys):
    assert main(["5"]) == 0
    assert capsys.readouterr().out.split() == ["0", "1", "1", "2", "3"]
`;
