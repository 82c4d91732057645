// The console's success message: what a save did, in one line under the page's toolbar. A page keeps one
// notice; the next action replaces it, and an error (shown by the action's own InlineError) clears it.
import { useCallback, useState } from "react";

export interface NoticeState {
  text: string | null;
  show: (text: string | null) => void;
}

export function useNotice(): NoticeState {
  const [text, setText] = useState<string | null>(null);
  const show = useCallback((t: string | null) => setText(t), []);
  return { text, show };
}

export function Notice({ notice, testId = "notice" }: { notice: NoticeState; testId?: string }) {
  if (!notice.text) return null;
  return (
    <p role="status" className="ok-text small" data-testid={testId}>
      {notice.text}
    </p>
  );
}
