import { useState } from 'react';
import { useLocation } from 'wouter';
import { ErrorMessage } from '../../../components/error-message';
import { useDeleteProject } from '../api/delete-project';

/** Delete, after a confirmation that says what goes with it. */
export function DeleteProject({ projectId }: { projectId: string }) {
  const [confirming, setConfirming] = useState(false);
  const remove = useDeleteProject(projectId);
  const [, navigate] = useLocation();

  if (!confirming) {
    return (
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Delete project
      </button>
    );
  }
  return (
    <div className="confirm" role="group" aria-labelledby={`confirm-${projectId}`}>
      <p id={`confirm-${projectId}`}>
        Delete this project? Its jobs are cancelled and its files and history removed. This cannot be undone.
      </p>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => remove.mutate(undefined, { onSuccess: () => navigate('/') })}
      >
        {remove.isPending ? 'Deleting…' : 'Yes, delete it'}
      </button>{' '}
      <button type="button" className="secondary" onClick={() => setConfirming(false)} autoFocus>
        Keep it
      </button>
      {remove.isError && <ErrorMessage error={remove.error} prefix="The project was not deleted." />}
    </div>
  );
}
