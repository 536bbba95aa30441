import { ProjectCreate, unstorableText } from '@cwo/contracts';
import { useId, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { ErrorMessage } from '../../../components/error-message';
import { useCreateProject } from '../api/create-project';

const MAX = 2000;

/**
 * The "New project" box. The instruction is checked with the API's own schema (trimmed, 5–2000
 * characters, storable text) before it is sent; what the API answers otherwise (422, 429, 503) is shown in words.
 */
export function NewProjectForm() {
  const [instruction, setInstruction] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const create = useCreateProject();
  const inputId = useId();
  const hintId = useId();
  const problemId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = ProjectCreate.safeParse({ instruction });
    if (!parsed.success) {
      setProblem(parsed.error.issues.map((i) => i.message).join('; '));
      return;
    }
    // The API refuses text Postgres cannot store (NUL, lone surrogates) with the same words.
    const unstorable = unstorableText(parsed.data.instruction);
    if (unstorable) {
      setProblem(unstorable.msg);
      return;
    }
    setProblem(null);
    create.mutate(parsed.data, { onSuccess: () => setInstruction('') });
  };

  const length = instruction.trim().length;
  return (
    <form className="card new-project" onSubmit={submit} noValidate aria-labelledby={`${inputId}-title`}>
      <h2 id={`${inputId}-title`}>New project</h2>
      <label htmlFor={inputId}>What should the agent build?</label>
      <textarea
        id={inputId}
        name="instruction"
        rows={4}
        value={instruction}
        onChange={(e) => setInstruction(e.target.value)}
        aria-describedby={`${hintId}${problem ? ` ${problemId}` : ''}`}
        aria-invalid={problem ? true : undefined}
        placeholder="A Python CLI that prints the first 10 Fibonacci numbers, with a test."
      />
      <div className="form-row">
        <span id={hintId} className={`hint${length > MAX ? ' over' : ''}`}>
          {length} / {MAX} characters (at least 5)
        </span>
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? 'Creating…' : 'Create project'}
        </button>
      </div>
      {problem && (
        <p id={problemId} role="alert" className="error-message">
          {problem}
        </p>
      )}
      {create.isError && <ErrorMessage error={create.error} prefix="The project was not created." />}
      {create.isSuccess && (
        <p role="status" className="success-message">
          Project created: <Link href={`/projects/${create.data.id}`}>open it</Link>.
        </p>
      )}
    </form>
  );
}
