// Server-side pagination: a hook that loads one page at a time and the view around such a list (loading,
// error and not-available states, empty text, pager).
import { useCallback, useState, type ReactNode } from "react";
import type { Page } from "../api";
import { AsyncView, Pager, useAsync, type AsyncState } from "./ui";

export interface Paged<T> extends AsyncState<Pick<Page<T>, "list" | "count">> {
  page: number;
  pageSize: number;
  setPage: (page: number) => void;
  /** `set` wrapped to also go back to page 1: for the setters of the filters `load` reads. */
  filter: <V>(set: (value: V) => void) => (value: V) => void;
}

/** Load page `page` of a list with `load(page, pageSize)`; reloads when `deps` or the page change. Filters set
 * their value through `filter(setter)`, which also goes back to page 1 in the same render (one request). */
export function usePaged<T>(
  load: (page: number, pageSize: number) => Promise<Pick<Page<T>, "list" | "count">>,
  deps: unknown[],
  pageSize: number,
): Paged<T> {
  const [page, setPage] = useState(1);
  const state = useAsync(() => load(page, pageSize), [...deps, page, pageSize]);
  const filter = useCallback(
    <V,>(set: (value: V) => void) =>
      (value: V) => {
        set(value);
        setPage(1);
      },
    [],
  );
  return { ...state, page, pageSize, setPage, filter };
}

/** One page of a `usePaged` list with the pager below it. `empty` stands in for the list when the page has no
 * rows; the pager stays unless `pagerWhenEmpty` is false (so a page emptied by a delete can still go back).
 * `toolbar` is drawn above the list once the first page is in. */
export function PagedList<T>({
  paged,
  feature,
  empty,
  pagerWhenEmpty = true,
  toolbar,
  children,
}: {
  paged: Paged<T>;
  feature?: string;
  empty?: ReactNode;
  pagerWhenEmpty?: boolean;
  toolbar?: ReactNode;
  children: (list: T[]) => ReactNode;
}) {
  return (
    <AsyncView state={paged} feature={feature}>
      {(p) => {
        const none = empty !== undefined && p.list.length === 0;
        return (
          <>
            {toolbar}
            {none ? empty : children(p.list)}
            {(!none || pagerWhenEmpty) && <Pager page={paged.page} pageSize={paged.pageSize} count={p.count} onPage={paged.setPage} />}
          </>
        );
      }}
    </AsyncView>
  );
}
