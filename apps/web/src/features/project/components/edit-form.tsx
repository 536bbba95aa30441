import { JobCreate, unstorableText } from '@cwo/contracts';
import { useId, useState, type FormEvent } from 'react';
import { ErrorMessage } from '../../../components/error-message';
import { STATUS_TEXT } from '../../../components/status-badge';
import { useCreateEdit } from '../api/create-edit';
import { useJob } from '../api/get-job';
import { queueStandingText } from './job-details';

/** The edit just queued from this box: where it stands until it runs, then that it runs or ended. */
function QueuedEdit({ projectId, jobId }: { projectId: string; jobId: string }) {
  // The same query as the job's panel: no request of its own.
  const { data: job } = useJob(projectId, jobId);
  if (!job) return null;
  const text =
    job.status === 'queued'
      ? `Your edit is queued. ${queueStandingText(job) ?? ''}`.trim()
      : job.status === 'in_progress'
        ? 'Your edit is running.'
        : `Your edit ended: ${STATUS_TEXT[job.status].toLowerCase()}.`;
  return (
    <p className="queue-position" role="status">
      {text}
    </p>
  );
}

/** Asks for the project's next change; checked with the API's schema (1–2000 characters). */
export function EditForm({ projectId, onQueued }: { projectId: string; onQueued: (jobId: string) => void }) {
  const [instruction, setInstruction] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [queued, setQueued] = useState<string | null>(null);
  const create = useCreateEdit(projectId);
  const id = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = JobCreate.safeParse({ job_type: 'edit', instruction });
    const issue = parsed.success ? unstorableText(parsed.data.instruction)?.msg : parsed.error.issues[0]?.message;
    if (!parsed.success || issue) {
      setProblem(issue ?? 'The instruction is not valid');
      return;
    }
    setProblem(null);
    create.mutate(parsed.data, {
      onSuccess: (job) => {
        setInstruction('');
        setQueued(job.id);
        onQueued(job.id);
      },
    });
  };

  return (
    <form className="edit-form" onSubmit={submit} noValidate>
      <label htmlFor={id}>Ask for the next change</label>
      <textarea
        id={id}
        rows={2}
        value={instruction}
        onChange={(e) => setInstruction(e.target.value)}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
        placeholder="Append a comment line to app.py describing the change."
      />
      <div className="form-row">
        <span className="hint">It runs after the project’s earlier jobs, in order.</span>
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? 'Queueing…' : 'Queue edit'}
        </button>
      </div>
      {problem && (
        <p id={`${id}-problem`} role="alert" className="error-message">
          {problem}
        </p>
      )}
      {queued && !create.isPending && <QueuedEdit projectId={projectId} jobId={queued} />}
      {create.isError && <ErrorMessage error={create.error} prefix="The edit was not queued." />}
    </form>
  );
}
