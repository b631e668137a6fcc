/** Which rows of a fixed-row-height list are on screen (plus some overscan): the virtualizer's math. */
export interface RowRange {
  /** First row to render (inclusive). */
  start: number;
  /** Last row to render (exclusive). */
  end: number;
}

export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, count: number, overscan = 10): RowRange {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.max(start, Math.min(count, first + shown + overscan));
  return { start, end };
}

/** Whether a scroll position is at the bottom (within one row): where "follow the tail" stays on. */
export function isAtBottom(scrollTop: number, viewportHeight: number, contentHeight: number, slack: number): boolean {
  return scrollTop + viewportHeight >= contentHeight - slack;
}
